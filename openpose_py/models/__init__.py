"""Network registry: ``create(name)`` builds any registered network, untrained.

Every network maps a (B, 3, H, W) normalised image to ``tuple[StageOutput, ...]``, one per stage, and carries a
``skeleton`` attribute from which its channel counts were derived.
"""

from __future__ import annotations

import importlib
from typing import Callable

from torch import nn

from .outputs import StageOutput, final_output

__all__ = ["StageOutput", "final_output", "register", "create", "available"]

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}
# Modules that register built-in networks when imported; loaded on first use so that importing the package stays cheap.
_BUILTIN_MODULES = ("lightweight", "vgg19_cmu")
_loaded = False


def register(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator registering a network builder under ``name``."""

    def deco(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _BUILDERS:
            raise ValueError(f"network {name!r} registered twice")
        _BUILDERS[name] = builder
        return builder

    return deco


def _load_builtins() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for mod in _BUILTIN_MODULES:
            importlib.import_module(f"{__name__}.{mod}")


def available() -> list[str]:
    """Names of all registered networks."""
    _load_builtins()
    return sorted(_BUILDERS)


def create(name: str, **kwargs) -> nn.Module:
    """Build the network registered as ``name`` with random weights (keyword arguments go to its builder)."""
    _load_builtins()
    if name not in _BUILDERS:
        raise KeyError(f"unknown network {name!r}; registered: {', '.join(sorted(_BUILDERS))}")
    return _BUILDERS[name](**kwargs)
