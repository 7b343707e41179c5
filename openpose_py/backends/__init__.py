"""Network runners: the step that maps a normalised input batch to the final stage's heatmaps and PAFs.

``PoseEstimator`` pre-processes and decodes; between the two it calls a :class:`NetworkRunner` built by
:func:`make_runner`, the one factory for every backend. The torch runner runs the ``nn.Module`` itself (any device,
optional bf16/fp16 autocast, channels_last, ``torch.compile``); the CPU runners run an exported ONNX graph in ONNX
Runtime or OpenVINO, or OpenVINO on a weights entry's own INT8 IR.

Backends (:data:`BACKENDS`, from the registry in :mod:`.registry`, where a new one is added with
:func:`register_backend`; builders in :mod:`.factory` and each backend's module):

- ``auto`` (the default): the fastest installed backend whose accuracy stays within 0.005 COCO AP of float32
  (:func:`resolve_backend`): ``torch`` on a GPU; on the CPU ``openvino-int8`` where an INT8 IR holds the weights in
  use, else ``openvino``, else ``onnxruntime``, else ``torch``.
- ``torch``: the module as loaded.
- ``onnxruntime``: the network exported to ONNX (dynamic batch, height and width), cached on disk.
- ``openvino``: the same ONNX file compiled by OpenVINO for the CPU (float32).
- ``openvino-int8``: OpenVINO on the INT8 IR that a weights entry lists as an ``openvino_ir`` source (hpe-0001),
  mixed precision: the convolutions in :data:`INT8_FLOAT_LAYERS` (the stem and the layers that write the heatmaps
  and PAFs, 2.2% of the multiply-adds) run in
  float32, every other quantised layer in INT8 (an IR given as the weights file runs all of them in INT8). Only valid
  when the network's weights are that entry's own; its outputs differ from float32 by the quantisation of the
  remaining layers' inputs.

Shapes: x (B, 3, H, W) float32 normalised as the weights' ``PreprocessSpec`` says; outputs (B, K+1, H/8, W/8)
heatmaps and (B, 2L, H/8, W/8) PAFs, float32.
"""

from __future__ import annotations

import importlib
from typing import Any, Literal

from .registry import AUTO, BackendEntry, RunnerOptions, backend_names, get_backend, register_backend, \
    registered_backends

__all__ = [
    "BACKENDS", "Backend", "NetworkRunner", "TorchRunner", "OnnxRuntimeRunner", "OpenVinoRunner", "make_runner",
    "resolve_backend", "export_onnx", "export_torchscript", "cached_onnx", "find_int8_ir", "max_abs_difference",
    "ONNX_OPSET", "INT8_FLOAT_LAYERS", "to_device", "openvino_core", "AUTO", "BackendEntry", "RunnerOptions",
    "register_backend", "get_backend", "backend_names", "registered_backends", "CPU_BACKENDS",
]

Backend = Literal["auto", "torch", "onnxruntime", "openvino", "openvino-int8"]
#: The built-in backends' names, ``auto`` first (:func:`backend_names` also lists any registered later).
BACKENDS: tuple[str, ...] = backend_names()
#: Backends that run on the CPU only.
CPU_BACKENDS: tuple[str, ...] = tuple(e.name for e in registered_backends() if e.cpu_only)

# The runners, exports and the factory need torch: loaded on first use, so that the registry (and the CLI's
# choices) stay light.
_LAZY = {
    "NetworkRunner": ".torch_runner", "TorchRunner": ".torch_runner", "max_abs_difference": ".torch_runner",
    "to_device": ".torch_runner", "OnnxRuntimeRunner": ".onnx", "export_onnx": ".onnx",
    "export_torchscript": ".onnx", "cached_onnx": ".onnx", "ONNX_OPSET": ".onnx", "OpenVinoRunner": ".openvino",
    "INT8_FLOAT_LAYERS": ".openvino", "openvino_core": ".openvino", "find_int8_ir": ".openvino",
    "make_runner": ".factory", "resolve_backend": ".factory",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
