"""The backend registry: every way of running a network, by name, with what it needs installed and where its builder
lives. :func:`~openpose_py.backends.make_runner` and the CLI's ``--backend`` choices both come from here.

Free of torch (the CLI reads the names before loading it): a builder is named as ``"module:function"`` within this
package and imported on first use. Adding a backend is one module with a builder and one :func:`register_backend`.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from ..checks import check_all

__all__ = ["AUTO", "BackendEntry", "RunnerOptions", "register_backend", "get_backend", "backend_names",
           "registered_backends"]

#: The name that picks a registered backend for the machine and the weights (``resolve_backend``).
AUTO = "auto"


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    """What a builder is told besides the network and its spec (:func:`~openpose_py.backends.make_runner`'s
    keywords): the device, CPU threads, the weights file in use, the export cache, the INT8 IR and its float layers,
    and the torch runner's dtype, channels_last and compile."""

    device: Any = "cpu"
    threads: int | None = None
    weights: str | Path | None = None
    cache: str | Path | None = None
    int8_ir: str | Path | None = None
    int8_float_layers: Sequence[str] | None = None
    dtype: Any = None
    channels_last: bool = False
    compile: bool = False


#: A builder: (network, its WeightsSpec, options) -> a runner (a ``NetworkRunner``; the builders import torch, this
#: module does not).
Builder = Callable[[Any, Any, RunnerOptions], Any]


@dataclass(frozen=True, slots=True)
class BackendEntry:
    """A registered backend.

    Attributes:
        name: what ``--backend`` and ``make_runner`` call it.
        builder: ``"module:function"`` of its :data:`Builder`, the module relative to this package (``".onnx"``) or
            absolute.
        requires: modules that must be importable for it to run (``auto`` passes over it otherwise).
        cpu_only: it runs on the CPU only (refused with another device).
        torch_options: it takes the torch runner's ``dtype``, ``channels_last`` and ``compile``.
        summary: one line for help texts.
    """

    name: str
    builder: str
    requires: tuple[str, ...] = ()
    cpu_only: bool = False
    torch_options: bool = False
    summary: str = ""

    def __post_init__(self) -> None:
        check_all((
            (bool(self.name) and self.name != AUTO, f"a backend name must be non-empty and not {AUTO!r}, got "
                                                    f"{self.name!r}"),
            (self.builder.count(":") == 1, f"builder must read 'module:function', got {self.builder!r}"),
        ))

    def installed(self) -> bool:
        """Whether every module it requires can be imported here."""
        return all(importlib.util.find_spec(module) is not None for module in self.requires)

    def load_builder(self) -> Builder:
        module, function = self.builder.split(":")
        return getattr(importlib.import_module(module, __package__), function)


_BACKENDS: dict[str, BackendEntry] = {}


def register_backend(entry: BackendEntry) -> BackendEntry:
    """Add a backend; its name becomes a ``--backend`` choice (for commands defined after this call)."""
    if entry.name in _BACKENDS:
        raise ValueError(f"backend {entry.name!r} registered twice")
    _BACKENDS[entry.name] = entry
    return entry


def get_backend(name: str) -> BackendEntry:
    """The backend registered as ``name``; ValueError names the known ones."""
    if name not in _BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose from {', '.join(backend_names())}")
    return _BACKENDS[name]


def registered_backends() -> tuple[BackendEntry, ...]:
    """Every registered backend, in registration order."""
    return tuple(_BACKENDS.values())


def backend_names() -> tuple[str, ...]:
    """``auto`` and every registered name: the ``--backend`` choices."""
    return (AUTO, *_BACKENDS)


register_backend(BackendEntry("torch", ".torch_runner:build_torch", torch_options=True,
                              summary="the PyTorch module itself, on any device"))
register_backend(BackendEntry("onnxruntime", ".onnx:build_onnxruntime", requires=("onnxruntime", "onnx"),
                              cpu_only=True, summary="ONNX Runtime on the network's cached ONNX export (float32)"))
register_backend(BackendEntry("openvino", ".openvino:build_openvino", requires=("openvino",), cpu_only=True,
                              summary="OpenVINO on the network's cached ONNX export (float32)"))
register_backend(BackendEntry("openvino-int8", ".openvino:build_openvino_int8", requires=("openvino",),
                              cpu_only=True, summary="OpenVINO on a weights entry's own INT8 IR (hpe-0001)"))
