"""Matching tensors to networks: the one routine that compares a state_dict's names and shapes with a network's,
used to check a file against its entry, to recognise an unnamed file, and to load strictly."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from ..errors import ArchitectureMismatchError, WeightsError
from .registry import list_specs
from .spec import WeightsSpec

__all__ = ["build", "expected_shapes", "differences", "check_fits", "infer_spec", "load_strict", "describe_differences",
           "non_finite_tensors", "check_finite"]

log = logging.getLogger(__name__)

_SHAPES: dict[tuple, dict[str, tuple[int, ...]]] = {}


def build(spec: WeightsSpec):
    """The untrained network of ``spec`` (architecture, skeleton and builder arguments)."""
    from ..models import create

    return create(spec.architecture, skeleton=spec.skeleton, **spec.builder_kwargs)


def expected_shapes(spec: WeightsSpec) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape of the network of ``spec`` (built once on the meta device, memoised)."""
    key = (spec.architecture, spec.skeleton.name, repr(sorted(spec.arch_kwargs)))
    if key not in _SHAPES:
        import torch

        with torch.device("meta"):  # shapes only: no memory, no initialisation cost
            model = build(spec)
        _SHAPES[key] = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    return _SHAPES[key]


def _strip_leading_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    i = 0
    while i < len(shape) - 1 and shape[i] == 1:
        i += 1
    return shape[i:]


def differences(tensors: Mapping[str, Any], expected: Mapping[str, tuple[int, ...]], *,
                ignore_leading_ones: bool = False) -> tuple[list[str], list[str], list[str]]:
    """(missing names, unexpected names, "name (file shape) vs (network shape)" for each shape that differs), each in
    network or file order. ``ignore_leading_ones`` treats (1, 1, 1, C) as (C,) (Caffe's legacy 4-D blobs)."""
    def norm(shape: tuple[int, ...]) -> tuple[int, ...]:
        return _strip_leading_ones(shape) if ignore_leading_ones else shape

    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    shapes = [f"{k} {tuple(tensors[k].shape)} vs {expected[k]}" for k in expected
              if k in tensors and norm(tuple(tensors[k].shape)) != norm(expected[k])]
    return missing, unexpected, shapes


def describe_differences(missing: list, unexpected: list, shapes: list) -> str:
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:2])})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:2])})")
    if shapes:
        parts.append(f"{len(shapes)} of other shape (e.g. {'; '.join(shapes[:2])})")
    return ", ".join(parts)


def check_fits(tensors: Mapping[str, Any], spec: WeightsSpec, source: str) -> None:
    """Raise :class:`ArchitectureMismatchError` unless ``tensors`` are exactly the network's of ``spec``."""
    expected = expected_shapes(spec)
    missing, unexpected, shapes = differences(tensors, expected)
    if missing or unexpected or shapes:
        raise ArchitectureMismatchError(
            f"{source}: expected the {len(expected)} tensors of {spec.name} ({spec.architecture}, "
            f"{spec.skeleton.name}), found {len(tensors)}: {describe_differences(missing, unexpected, shapes)}")


def infer_spec(tensors: Mapping[str, Any], architecture: str | None, source: str) -> WeightsSpec:
    """The registered entry (of ``architecture``, when given) whose network the tensors fit exactly."""
    candidates = [s for s in list_specs()
                  if architecture is None or architecture in (s.architecture, s.name, *s.aliases)]
    if not candidates:
        raise ArchitectureMismatchError(f"{source}: no registered weights of architecture {architecture!r}")
    best: tuple[int, WeightsSpec, tuple] | None = None
    for spec in candidates:
        try:
            expected = expected_shapes(spec)
        except (KeyError, ImportError) as exc:  # a network whose module is not available here
            log.debug("cannot build %s: %s", spec.name, exc)
            continue
        diff = differences(tensors, expected)
        errors = sum(len(d) for d in diff)
        if errors == 0:
            return spec
        if best is None or errors < best[0]:
            best = (errors, spec, diff)
    if best is None:
        raise ArchitectureMismatchError(f"{source}: no network could be built to compare against")
    _, spec, diff = best
    wanted = f"expected {architecture}" if architecture else "fits no registered network"
    raise ArchitectureMismatchError(f"{source}: {wanted}; closest is {spec.name} ({spec.architecture}) with "
                                    f"{describe_differences(*diff)}")


def non_finite_tensors(tensors: Mapping[str, Any]) -> list[str]:
    """Names of the floating-point tensors holding NaN or infinite values (one wait for the device, not one each)."""
    import torch

    names = [name for name, t in tensors.items() if torch.is_tensor(t) and t.is_floating_point()]
    if not names:
        return []
    finite = torch.stack([torch.isfinite(tensors[name]).all() for name in names])
    return [] if bool(finite.all()) else [name for name, ok in zip(names, finite.tolist()) if not ok]


def check_finite(tensors: Mapping[str, Any], source: str) -> None:
    """Raise :class:`WeightsError` for weights holding NaN or infinite values (which would find no one, silently)."""
    broken = non_finite_tensors(tensors)
    if broken:
        raise WeightsError(f"{source}: {len(broken)} of {len(tensors)} tensors hold NaN or infinite values (the first: "
                           f"{broken[0]}), as a training run that diverged leaves them")


def load_strict(model, tensors: Mapping[str, Any], spec: WeightsSpec, source: str) -> None:
    """``model.load_state_dict(tensors, strict=True)`` with a one-line :class:`ArchitectureMismatchError`, after
    :func:`check_finite`."""
    check_fits(tensors, spec, source)
    check_finite(tensors, source)
    model.load_state_dict(tensors, strict=True)
