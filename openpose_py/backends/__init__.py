"""Network runners: the step that maps a normalised input batch to the final stage's heatmaps and PAFs.

``PoseEstimator`` pre-processes and decodes; between the two it calls a :class:`NetworkRunner` built by
:func:`make_runner`, the one factory for every backend. The torch runner runs the ``nn.Module`` itself (any device,
optional bf16/fp16 autocast, channels_last, ``torch.compile``); the CPU runners run an exported ONNX graph in ONNX
Runtime or OpenVINO, or OpenVINO on a weights entry's own INT8 IR.

Backends (:data:`BACKENDS`):

- ``auto`` (the default): the fastest installed backend whose accuracy stays within 0.005 COCO AP of float32
  (:func:`resolve_backend`): ``torch`` on a GPU; on the CPU ``openvino-int8`` where an INT8 IR holds the weights in
  use, else ``openvino``, else ``onnxruntime``, else ``torch``.
- ``torch``: the module as loaded.
- ``onnxruntime``: the network exported to ONNX (dynamic batch, height and width), cached on disk.
- ``openvino``: the same ONNX file compiled by OpenVINO for the CPU (float32).
- ``openvino-int8``: OpenVINO on the INT8 IR that a weights entry lists as an ``openvino_ir`` source (hpe-0001),
  mixed precision: the convolutions in :data:`INT8_FLOAT_LAYERS` (the stem, about 1% of the multiply-adds) run in
  float32, every other quantised layer in INT8 (an IR given as the weights file runs all of them in INT8). Only valid
  when the network's weights are that entry's own; its outputs differ from float32 by the quantisation of the
  remaining layers' inputs.

Shapes: x (B, 3, H, W) float32 normalised as the weights' ``PreprocessSpec`` says; outputs (B, K+1, H/8, W/8)
heatmaps and (B, 2L, H/8, W/8) PAFs, float32.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Literal, Sequence

import torch
from torch import nn

from ..errors import WeightsError
from .onnx import ONNX_OPSET, OnnxRuntimeRunner, cached_onnx, export_onnx, export_torchscript
from .openvino import INT8_FLOAT_LAYERS, OpenVinoRunner, openvino_core
from .torch_runner import NetworkRunner, TorchRunner, max_abs_difference, to_device

__all__ = [
    "BACKENDS", "Backend", "NetworkRunner", "TorchRunner", "OnnxRuntimeRunner", "OpenVinoRunner", "make_runner",
    "resolve_backend", "export_onnx", "export_torchscript", "cached_onnx", "find_int8_ir", "max_abs_difference",
    "ONNX_OPSET", "INT8_FLOAT_LAYERS", "to_device", "openvino_core",
]

log = logging.getLogger(__name__)

Backend = Literal["auto", "torch", "onnxruntime", "openvino", "openvino-int8"]
BACKENDS: tuple[str, ...] = ("auto", "torch", "onnxruntime", "openvino", "openvino-int8")
#: Backends that run on the CPU only.
CPU_BACKENDS: tuple[str, ...] = ("onnxruntime", "openvino", "openvino-int8")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def find_int8_ir(spec, weights: str | Path | None = None) -> Path | None:
    """The OpenVINO IR holding exactly the weights in use, or None.

    With an explicit ``weights`` file, that file if it is an IR (``.xml``); otherwise the registered entry's own
    ``openvino_ir`` source when it is present locally (hpe-0001's FP16-INT8 IR is what ``lightweight`` loads from,
    and it ships with the package). Nothing is downloaded here.
    """
    if weights is not None:
        path = Path(weights)
        return path if path.suffix.lower() == ".xml" else None
    if not any(s.format == "openvino_ir" and not s.companion for s in spec.sources):
        return None
    from ..weights.store import find_local

    for found in find_local(spec):
        if found.source.format == "openvino_ir" and not found.source.companion and found.status in ("ok", "unverified"):
            return found.path
    return None


def resolve_backend(backend: str, spec, *, device: str | torch.device = "cpu",
                    weights: str | Path | None = None) -> str:
    """The concrete backend for ``backend``: itself, or for ``auto`` the fastest one installed here whose accuracy
    stays within 0.005 AP of float32 (docs/benchmarks.md: INT8 with the float stem -0.0038 AP on average over 15
    conditions at 2.9x the speed of torch; OpenVINO and ONNX Runtime float32 give torch's maps to 5e-6, 1.4x and 1.3x
    faster). Raises ValueError for an unknown name or a CPU-only backend on another device."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    kind = torch.device(device).type
    if backend != "auto":
        if backend in CPU_BACKENDS and kind != "cpu":
            raise ValueError(f"the {backend} backend runs on the CPU, not on {device}")
        return backend
    if kind != "cpu":
        return "torch"
    if _installed("openvino"):
        return "openvino-int8" if find_int8_ir(spec, weights) is not None else "openvino"
    if _installed("onnxruntime") and _installed("onnx"):
        return "onnxruntime"
    return "torch"


def make_runner(backend: str, model: nn.Module, spec, *, device: str | torch.device | None = None,
                threads: int | None = None, weights: str | Path | None = None, cache: str | Path | None = None,
                int8_ir: str | Path | None = None, int8_float_layers: Sequence[str] | None = None,
                dtype: torch.dtype | None = None, channels_last: bool = False,
                compile: bool = False) -> NetworkRunner:
    """Build the runner for ``backend`` (see :data:`BACKENDS`; ``auto`` is resolved by :func:`resolve_backend`).

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
        int8_float_layers: convolutions of that IR to run in float32 (default :data:`INT8_FLOAT_LAYERS` for the
            registered IR, ``()`` for a user's IR, which may name its layers otherwise).
        dtype, channels_last, compile: options of :class:`TorchRunner`.
    """
    if device is None:
        param = next(model.parameters(), None)
        device = param.device if param is not None else "cpu"
    backend = resolve_backend(backend, spec, device=device, weights=weights)
    if backend == "torch":
        return TorchRunner(model, dtype=dtype, channels_last=channels_last, compile=compile)
    if dtype not in (None, torch.float32) or channels_last or compile:
        raise ValueError(f"dtype, channels_last and compile apply to the torch backend only, not {backend}")
    if backend == "openvino-int8":
        ir = int8_ir if int8_ir is not None else find_int8_ir(spec, weights)
        if ir is None:
            raise WeightsError(f"no INT8 OpenVINO IR holds these {spec.name} weights (the openvino backend runs any "
                               "weights in float32)")
        if int8_float_layers is None:
            int8_float_layers = INT8_FLOAT_LAYERS if weights is None else ()
        norm = spec.preprocess
        return OpenVinoRunner(ir, spec.skeleton, threads=threads, input_affine=(norm.mean, norm.std),
                              float_layers=int8_float_layers, name=backend, cache=_compiled_cache(cache))
    onnx_path = cached_onnx(model, spec.name, cache)
    if backend == "onnxruntime":
        return OnnxRuntimeRunner(onnx_path, threads=threads)
    return OpenVinoRunner(onnx_path, spec.skeleton, threads=threads, cache=_compiled_cache(cache))


def _compiled_cache(cache: str | Path | None) -> Path:
    from ..weights.places import cache_dir

    return Path(cache or cache_dir()) / "openvino"
