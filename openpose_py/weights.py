"""Weights registry: named entries bundling architecture, skeleton, pre-processing, licence and sources.

Resolution order for a name: an explicit path; files found (recursively, by file name, sha256-checked) under
``$OPENPOSE_PY_WEIGHTS_DIR``; the user cache; a download (progress bar, sha256 check, atomic write).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .preprocess import PreprocessSpec
from .skeleton import Skeleton

__all__ = ["WeightsSource", "WeightsSpec", "register_weights", "get_spec", "list_specs"]


@dataclass(frozen=True, slots=True)
class WeightsSource:
    """One file a weights entry can be built from.

    ``format`` says how to read it: ``"state_dict"`` (torch, weights_only), ``"safetensors"``, ``"openvino_ir"``
    (an ``.xml`` whose ``.bin`` sits beside it, listed as a companion source), ``"caffemodel"``.
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
    extra: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def builder_kwargs(self) -> dict[str, Any]:
        return dict(self.arch_kwargs)


_REGISTRY: dict[str, WeightsSpec] = {}


def register_weights(spec: WeightsSpec) -> WeightsSpec:
    """Add an entry (and its aliases) to the registry."""
    for key in (spec.name, *spec.aliases):
        if key in _REGISTRY:
            raise ValueError(f"weights name {key!r} registered twice")
        _REGISTRY[key] = spec
    return spec


def get_spec(name: str) -> WeightsSpec:
    """The registry entry called ``name`` (or one of its aliases)."""
    if name not in _REGISTRY:
        known = ", ".join(sorted({s.name for s in _REGISTRY.values()}))
        raise KeyError(f"unknown weights {name!r}; registered: {known}")
    return _REGISTRY[name]


def list_specs() -> list[WeightsSpec]:
    """All registered entries, each once."""
    seen: dict[str, WeightsSpec] = {}
    for spec in _REGISTRY.values():
        seen.setdefault(spec.name, spec)
    return list(seen.values())
