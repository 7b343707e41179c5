"""The registry of named weights: entries are added by :mod:`.catalogue` (and by tests or plug-ins)."""

from __future__ import annotations

from .spec import WeightsSpec

__all__ = ["register_weights", "get_spec", "lookup", "list_specs"]

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


def lookup(name: str) -> WeightsSpec | None:
    """The entry called ``name`` (or an alias), or None."""
    return _REGISTRY.get(name)


def list_specs() -> list[WeightsSpec]:
    """All registered entries, each once."""
    seen: dict[str, WeightsSpec] = {}
    for spec in _REGISTRY.values():
        seen.setdefault(spec.name, spec)
    return list(seen.values())
