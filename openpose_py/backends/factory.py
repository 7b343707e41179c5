"""The one factory for network runners: :func:`make_runner` builds a registered backend (:mod:`.registry`), and
:func:`resolve_backend` says which one ``auto`` means on this machine for these weights."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from .openvino import find_int8_ir
from .registry import AUTO, RunnerOptions, get_backend
from .torch_runner import NetworkRunner

__all__ = ["make_runner", "resolve_backend"]


def resolve_backend(backend: str, spec, *, device: str | torch.device = "cpu",
                    weights: str | Path | None = None) -> str:
    """The concrete backend for ``backend``: itself, or for ``auto`` the fastest one installed here whose accuracy
    stays within 0.005 AP of float32 (docs/benchmarks.md, "INT8 that keeps float32 accuracy": INT8 with its stem and
    output layers in float, within 0.005 AP on every annotated set at heights 256 and 368, averaged over 8 image
    shifts; OpenVINO and ONNX Runtime float32 give torch's maps to 5e-6). Raises ValueError for an unknown name or a
    CPU-only backend on another device."""
    kind = torch.device(device).type
    if backend != AUTO:
        if get_backend(backend).cpu_only and kind != "cpu":
            raise ValueError(f"the {backend} backend runs on the CPU, not on {device}")
        return backend
    if kind != "cpu":
        return "torch"
    if get_backend("openvino").installed():
        return "openvino-int8" if find_int8_ir(spec, weights) is not None else "openvino"
    if get_backend("onnxruntime").installed():
        return "onnxruntime"
    return "torch"


def make_runner(backend: str, model: nn.Module, spec, *, device: str | torch.device | None = None,
                threads: int | None = None, weights: str | Path | None = None, cache: str | Path | None = None,
                int8_ir: str | Path | None = None, int8_float_layers: Sequence[str] | None = None,
                dtype: torch.dtype | None = None, channels_last: bool = False,
                compile: bool = False) -> NetworkRunner:
    """Build the runner for ``backend`` (see :data:`~openpose_py.backends.BACKENDS`; ``auto`` is resolved by
    :func:`resolve_backend`).

    Args:
        model: the loaded network (run directly by ``torch``, exported for the ONNX-based backends).
        spec: its ``WeightsSpec`` (skeleton, pre-processing, cache file name, sources).
        device: where the network runs (default: the model's device).
        threads: CPU threads of the ONNX Runtime/OpenVINO runners (torch uses ``torch.set_num_threads``).
        weights: the explicit weights file the model was loaded from, if any: it decides which IR ``openvino-int8``
            may use (a user's IR runs every quantised layer in INT8).
        cache: folder for exported files (default: the weights cache, ``$OPENPOSE_PY_CACHE_DIR``).
        int8_ir: the INT8 IR ``.xml`` for ``openvino-int8`` (default: found by :func:`find_int8_ir`); it must hold the
            same weights as ``model``.
        int8_float_layers: convolutions of that IR to run in float32 (default
            :data:`~openpose_py.backends.INT8_FLOAT_LAYERS` for the registered IR, ``()`` for a user's IR, which may
            name its layers otherwise).
        dtype, channels_last, compile: options of :class:`~openpose_py.backends.TorchRunner`.
    """
    if device is None:
        param = next(model.parameters(), None)
        device = param.device if param is not None else "cpu"
    entry = get_backend(resolve_backend(backend, spec, device=device, weights=weights))
    if not entry.torch_options and (dtype not in (None, torch.float32) or channels_last or compile):
        raise ValueError(f"dtype, channels_last and compile apply to the torch backend only, not {entry.name}")
    options = RunnerOptions(device=device, threads=threads, weights=weights, cache=cache, int8_ir=int8_ir,
                            int8_float_layers=int8_float_layers, dtype=dtype, channels_last=channels_last,
                            compile=compile)
    return entry.load_builder()(model, spec, options)
