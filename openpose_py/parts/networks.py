"""A MediaPipe landmark network (``.tflite``) run by OpenVINO on the CPU, any number of crops in one call."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from ..backends.openvino import openvino_core
from ..weights.landmarks import landmark_path

__all__ = ["LandmarkNetwork"]


class LandmarkNetwork:
    """One landmark network, compiled once with a free batch dimension.

    ``network(crops)`` takes (N, S, S, 3) float32 RGB crops in 0..1 (NHWC, as MediaPipe feeds them) and returns the
    network's outputs in their own order, each as an (N, ...) float32 array (all crops go through in one call).
    """

    def __init__(self, name: str, *, threads: int | None = None, path: str | Path | None = None) -> None:
        import openvino as ov

        self.name = name
        self.path = Path(path) if path is not None else landmark_path(name)
        core = openvino_core()
        model = core.read_model(str(self.path))
        shape = model.inputs[0].get_partial_shape()
        self.size = int(shape[1].get_length())
        model.reshape({model.inputs[0]: ov.PartialShape([-1, self.size, self.size, 3])})
        config: dict[str, object] = {"PERFORMANCE_HINT": "LATENCY"}
        if threads is not None:
            config["INFERENCE_NUM_THREADS"] = threads
        self._compiled = core.compile_model(model, "CPU", config)
        self._lock = threading.Lock()  # one infer request, shared by the threads of a server
        self._request = self._compiled.create_infer_request()

    def __call__(self, crops: np.ndarray) -> list[np.ndarray]:
        crops = np.ascontiguousarray(crops, dtype=np.float32)
        if crops.ndim != 4 or crops.shape[1:] != (self.size, self.size, 3):
            raise ValueError(f"{self.name} network takes (N, {self.size}, {self.size}, 3) crops, got {crops.shape}")
        n = len(crops)
        if n == 0:
            return [np.zeros((0, *_static(o)), np.float32) for o in self._compiled.outputs]
        with self._lock:
            self._request.infer({0: crops})
            return [self._request.get_output_tensor(i).data.reshape(n, -1).copy()
                    for i in range(len(self._compiled.outputs))]


def _static(output) -> tuple[int, ...]:
    shape = output.get_partial_shape()
    size = 1
    for d in list(shape)[1:]:
        size *= d.get_length()
    return (size,)
