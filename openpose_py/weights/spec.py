"""What a set of weights is: :class:`WeightsSpec` (architecture, skeleton, pre-processing, licence, sources) and its
JSON form stored in a weights file's metadata."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import WeightsError
from ..skeleton import Skeleton, get_skeleton

__all__ = ["PreprocessSpec", "WeightsSource", "WeightsSpec", "SPEC_METADATA_KEY", "spec_to_json", "spec_from_json"]

#: safetensors metadata key holding the JSON description of the weights (see :func:`spec_to_json`).
SPEC_METADATA_KEY = "openpose_py.spec"


@dataclass(frozen=True, slots=True)
class PreprocessSpec:
    """How a weights file expects its input.

    ``normalised = (pixel - mean) / std`` on BGR (or RGB) uint8 pixels; the image is resized (aspect kept) so its
    height is ``height`` times the scale, then padded with the pixel value ``pad_value`` (0-255) to a multiple of
    ``stride`` (at the bottom and right, or centred).
    """

    mean: float = 128.0
    std: float = 256.0
    channel_order: Literal["BGR", "RGB"] = "BGR"
    height: int = 368
    stride: int = 8
    pad_value: float = 128.0
    pad: Literal["bottom_right", "center"] = "bottom_right"
    interpolation: Literal["linear", "cubic", "area"] = "cubic"


@dataclass(frozen=True, slots=True)
class WeightsSource:
    """One file a weights entry can be built from.

    ``format`` says how to read it: ``"state_dict"`` (torch, weights_only), ``"safetensors"``, ``"openvino_ir"``
    (an ``.xml`` whose ``.bin`` sits beside it, listed as a companion source), ``"caffemodel"``.
    A companion source belongs to the nearest non-companion source listed before it. ``sha256 == ""`` means no hash
    is published: such a file is used, with a warning that it cannot be verified.
    """

    filename: str
    sha256: str
    size: int | None = None
    url: str | None = None
    format: str = "state_dict"
    companion: bool = False  # a file needed beside another source (an IR's .bin), not loadable on its own


@dataclass(frozen=True, slots=True)
class WeightsSpec:
    """A registered set of pretrained weights and everything needed to use them."""

    name: str
    architecture: str  # name in openpose_py.models
    skeleton: Skeleton
    preprocess: PreprocessSpec
    license: str
    description: str
    sources: tuple[WeightsSource, ...] = ()
    arch_kwargs: tuple[tuple[str, Any], ...] = ()  # builder keyword arguments (frozen as pairs)
    aliases: tuple[str, ...] = ()
    published: str = ""  # where a person obtains the file by hand (page or download script)
    extra: tuple[tuple[str, Any], ...] = field(default=())  # provenance and notes, e.g. ("trained_from", name)

    @property
    def builder_kwargs(self) -> dict[str, Any]:
        return dict(self.arch_kwargs)


def spec_to_json(spec: WeightsSpec) -> str:
    """JSON description of a spec for a weights file: name, architecture, arch kwargs, skeleton, preprocess..."""
    kwargs = spec.builder_kwargs
    try:
        body = {
            "name": spec.name, "architecture": spec.architecture, "arch_kwargs": kwargs,
            "skeleton": spec.skeleton.name, "preprocess": dataclasses.asdict(spec.preprocess),
            "license": spec.license, "description": spec.description, "published": spec.published,
            "extra": dict(spec.extra),
        }
        return json.dumps(body, sort_keys=True)
    except TypeError as exc:
        raise ValueError(f"weights spec {spec.name!r} cannot be stored as JSON: {exc}") from None


def spec_from_json(text: str, *, source: str = "metadata") -> WeightsSpec:
    """Inverse of :func:`spec_to_json`; a registered entry's sources are kept when the name is registered."""
    try:
        body = json.loads(text)
        skeleton = get_skeleton(body["skeleton"])
        preprocess = PreprocessSpec(**body.get("preprocess", {}))
        name, architecture = str(body["name"]), str(body["architecture"])
        kwargs = dict(body.get("arch_kwargs", {}))
        extra = dict(body.get("extra", {}))
    except (ValueError, KeyError, TypeError) as exc:
        raise WeightsError(f"{source}: invalid {SPEC_METADATA_KEY} metadata ({exc})") from None
    from .registry import lookup

    registered = lookup(name)
    return WeightsSpec(
        name=name, architecture=architecture, skeleton=skeleton, preprocess=preprocess,
        license=str(body.get("license", "")), description=str(body.get("description", "")),
        sources=registered.sources if registered else (), arch_kwargs=tuple(sorted(kwargs.items())),
        published=str(body.get("published", "")), extra=tuple(sorted(extra.items())),
    )


