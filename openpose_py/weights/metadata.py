"""A :class:`~.spec.WeightsSpec` as the JSON a weights file carries in its metadata (safetensors metadata, ONNX
``metadata_props``, a TorchScript archive's extra file), codec included, and back."""

from __future__ import annotations

import dataclasses
import json

from ..codec import PafCodec
from ..errors import WeightsError
from ..skeleton import get_skeleton
from .registry import lookup
from .spec import PreprocessSpec, WeightsSpec

__all__ = ["SPEC_METADATA_KEY", "spec_to_json", "spec_from_json"]

#: Metadata key holding the JSON description of the weights (see :func:`spec_to_json`).
SPEC_METADATA_KEY = "openpose_py.spec"


def spec_to_json(spec: WeightsSpec) -> str:
    """JSON description of a spec for a weights file: name, architecture, arch kwargs, skeleton, preprocess, codec..."""
    kwargs = spec.builder_kwargs
    try:
        body = {
            "name": spec.name, "architecture": spec.architecture, "arch_kwargs": kwargs,
            "skeleton": spec.skeleton.name, "preprocess": dataclasses.asdict(spec.preprocess),
            "codec": spec.codec.to_dict(),
            "license": spec.license, "description": spec.description, "published": spec.published,
            "extra": dict(spec.extra),
        }
        return json.dumps(body, sort_keys=True)
    except TypeError as exc:
        raise ValueError(f"weights spec {spec.name!r} cannot be stored as JSON: {exc}") from None


def spec_from_json(text: str, *, source: str = "metadata") -> WeightsSpec:
    """Inverse of :func:`spec_to_json`; a registered entry's sources are kept when the name is registered. A
    description written before codecs were stored gets the reference codec of its skeleton and stride."""
    try:
        body = json.loads(text)
        skeleton = get_skeleton(body["skeleton"])
        preprocess = PreprocessSpec(**body.get("preprocess", {}))
        codec = PafCodec.from_dict(body["codec"]) if "codec" in body else None
        name, architecture = str(body["name"]), str(body["architecture"])
        kwargs = dict(body.get("arch_kwargs", {}))
        extra = dict(body.get("extra", {}))
        registered = lookup(name)
        return WeightsSpec(
            name=name, architecture=architecture, skeleton=skeleton, preprocess=preprocess,
            license=str(body.get("license", "")), description=str(body.get("description", "")),
            sources=registered.sources if registered else (), arch_kwargs=tuple(sorted(kwargs.items())),
            published=str(body.get("published", "")), extra=tuple(sorted(extra.items())), codec=codec,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WeightsError(f"{source}: invalid {SPEC_METADATA_KEY} metadata ({exc})") from None
