"""The runner protocol and the torch runner: the module itself on any device, with optional autocast,
channels-last and ``torch.compile``."""

from __future__ import annotations

import contextlib
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor, nn

from ..models.outputs import StageOutput, final_output
from .registry import RunnerOptions

__all__ = ["NetworkRunner", "FinalStage", "TorchRunner", "to_device", "as_numpy", "max_abs_difference"]


@runtime_checkable
class NetworkRunner(Protocol):
    """Maps x (B, 3, H, W) float32, normalised, H and W multiples of 8, to the final stage's maps."""

    name: str

    def __call__(self, x: Tensor) -> StageOutput: ...


class FinalStage(nn.Module):
    """Wraps a network so that it returns only (heatmaps, pafs) of its final stage: what export and runners need."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        out = final_output(self.net(x))
        return out.heatmaps, out.pafs


def to_device(x: Tensor, device: torch.device) -> Tensor:
    """Move a network input to ``device``. A CPU tensor bound for a GPU is staged in pinned (page-locked) memory, so
    the upload is asynchronous: it queues ahead of the network on the GPU while the host goes on."""
    if device.type == "cuda" and x.device.type == "cpu":
        x = x.pin_memory()
    return x.to(device, non_blocking=True)


class TorchRunner:
    """Runs the module itself.

    Args:
        model: the network (its device is where inputs go; it is switched to eval mode).
        dtype: None for float32, or ``torch.bfloat16``/``torch.float16`` to run under autocast (outputs are
            returned as float32 either way).
        channels_last: convert the model (in place) and the inputs to channels-last memory format.
        compile: wrap the model in ``torch.compile`` (dynamic shapes); the first calls are slow.
        cudnn_benchmark: on CUDA, let cuDNN time its convolution algorithms for each new input size and keep the
            fastest (sets the process-wide ``torch.backends.cudnn.benchmark``); ignored on other devices.
    """

    name = "torch"

    def __init__(self, model: nn.Module, *, dtype: torch.dtype | None = None, channels_last: bool = False,
                 compile: bool = False, cudnn_benchmark: bool = True):
        if dtype not in (None, torch.float32, torch.bfloat16, torch.float16):
            raise ValueError(f"unsupported dtype {dtype}; use float32, bfloat16 or float16")
        self.model = model.eval()
        param = next(model.parameters(), None)
        self.device = param.device if param is not None else torch.device("cpu")
        self.dtype = None if dtype == torch.float32 else dtype
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = cudnn_benchmark
        self.channels_last = channels_last
        if channels_last:
            self.model.to(memory_format=torch.channels_last)
        self._forward: nn.Module = FinalStage(self.model)
        if compile:
            self._forward = torch.compile(self._forward, dynamic=True)

    def __call__(self, x: Tensor) -> StageOutput:
        x = to_device(x, self.device)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        autocast = (torch.autocast(self.device.type, dtype=self.dtype) if self.dtype is not None
                    else contextlib.nullcontext())
        with torch.inference_mode(), autocast:
            heatmaps, pafs = self._forward(x)
        return StageOutput(heatmaps.float(), pafs.float())


def as_numpy(x: Tensor) -> np.ndarray:
    return np.ascontiguousarray(x.detach().to("cpu", torch.float32).numpy())


def max_abs_difference(a: StageOutput, b: StageOutput) -> dict[str, float]:
    """Largest absolute difference per branch between two outputs of the same input."""
    return {
        "heatmaps": float((a.heatmaps.float().cpu() - b.heatmaps.float().cpu()).abs().max()),
        "pafs": float((a.pafs.float().cpu() - b.pafs.float().cpu()).abs().max()),
    }


def build_torch(model: nn.Module, spec, options: RunnerOptions) -> TorchRunner:
    """The ``torch`` backend's builder (:mod:`.registry`)."""
    return TorchRunner(model, dtype=options.dtype, channels_last=options.channels_last, compile=options.compile)
