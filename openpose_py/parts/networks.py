"""A MediaPipe landmark network (``.tflite``) run by OpenVINO on the CPU, any number of crops in one call."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from ..backends.openvino import openvino_core
from ..weights.landmarks import landmark_path

__all__ = ["LandmarkNetwork", "STATIC_BATCHES"]

#: Batches of at most this many crops run on a model compiled for exactly their size (the usual frame: a few people).
STATIC_BATCHES = 8


class LandmarkNetwork:
    """One landmark network, compiled once with a free batch dimension.

    ``network(crops)`` takes (N, S, S, 3) uint8 BGR crops (as OpenCV cuts them) and returns the network's outputs in
    their own order, each as an (N, ...) float32 array (all crops go through in one call). OpenVINO itself turns the
    crops into what MediaPipe feeds its networks (RGB in 0..1, NHWC), inside the compiled model: no per-pixel numpy
    pass, a quarter of the bytes to hand over.

    A batch of up to :data:`STATIC_BATCHES` crops runs on a model compiled for exactly that many (OpenVINO's CPU
    plugin runs a fixed shape 15-20 % faster than a free one; docs/benchmarks.md), compiled the first time that count
    comes (a few hundred milliseconds, once); larger batches share the model with a free batch dimension.
    """

    def __init__(self, name: str, *, threads: int | None = None, path: str | Path | None = None) -> None:
        import openvino as ov

        self.name = name
        self.path = Path(path) if path is not None else landmark_path(name)
        core = openvino_core()
        self._model = core.read_model(str(self.path))
        self.size = int(self._model.inputs[0].get_partial_shape()[1].get_length())
        self._config: dict[str, object] = {"PERFORMANCE_HINT": "LATENCY"}
        if threads is not None:
            self._config["INFERENCE_NUM_THREADS"] = threads
        self._compiled = self._compile(-1)
        self._lock = threading.Lock()  # one infer request per batch size, shared by the threads of a server
        self._requests = {-1: self._compiled.create_infer_request()}

    def _compile(self, batch: int):
        """The network for ``batch`` crops (-1: any number), fed uint8 BGR crops."""
        import openvino as ov

        model = self._model.clone()
        model.reshape({model.inputs[0]: ov.PartialShape([batch, self.size, self.size, 3])})
        return openvino_core().compile_model(_from_bgr_bytes(model), "CPU", self._config)

    def _request(self, n: int):
        """The infer request for a batch of ``n`` crops (under the lock): its own fixed-shape model when small."""
        key = n if n <= STATIC_BATCHES else -1
        if key not in self._requests:
            self._requests[key] = self._compile(key).create_infer_request()
        return self._requests[key]

    def __call__(self, crops: np.ndarray) -> list[np.ndarray]:
        crops = np.ascontiguousarray(crops)
        if crops.ndim != 4 or crops.shape[1:] != (self.size, self.size, 3) or crops.dtype != np.uint8:
            raise ValueError(f"{self.name} network takes (N, {self.size}, {self.size}, 3) uint8 BGR crops, got "
                             f"{crops.dtype} {crops.shape}")
        n = len(crops)
        with self._lock:
            if n == 0:  # each output's width, from the fixed-shape model of one crop
                return [np.zeros((0, *_static(o)), np.float32) for o in self._request(1).model_outputs]
            request = self._request(n)
            request.infer({0: crops})
            return [request.get_output_tensor(i).data.reshape(n, -1).copy() for i in range(len(self._compiled.outputs))]


def _from_bgr_bytes(model):
    """``model`` (NHWC RGB float input in 0..1) fed with NHWC uint8 BGR: OpenVINO's pre-processing converts, swaps
    the channels and scales."""
    import openvino as ov
    from openvino.preprocess import ColorFormat, PrePostProcessor

    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC")).set_color_format(ColorFormat.BGR)
    ppp.input().model().set_layout(ov.Layout("NHWC"))
    ppp.input().preprocess().convert_element_type(ov.Type.f32).convert_color(ColorFormat.RGB).scale(255.0)
    return ppp.build()


def _static(output) -> tuple[int, ...]:
    shape = output.get_partial_shape()
    size = 1
    for d in list(shape)[1:]:
        size *= d.get_length()
    return (size,)
