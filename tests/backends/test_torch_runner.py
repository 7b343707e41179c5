"""The torch runner: inputs on the CPU stay put, GPU uploads are pinned, bf16 and channels_last options."""

from __future__ import annotations

import copy

import pytest
import torch

from openpose_py.backends import TorchRunner, max_abs_difference, to_device
from openpose_py.models.lightweight import lightweight


def test_inputs_stay_put_on_the_cpu():
    x = torch.zeros(1, 3, 16, 16)
    assert to_device(x, torch.device("cpu")) is x  # no copy, no pinning
    assert to_device(x, torch.device("meta")).device.type == "meta"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_uploads_are_pinned_and_cudnn_autotunes(tiny):
    x = torch.zeros(1, 3, 16, 16)
    y = to_device(x, torch.device("cuda"))
    assert y.is_cuda and not x.is_pinned()  # the caller's tensor is left as it was; the staging copy is pinned
    torch.backends.cudnn.benchmark = False
    runner = TorchRunner(copy.deepcopy(tiny).cuda())
    assert torch.backends.cudnn.benchmark
    out = runner(x)
    assert out.heatmaps.is_cuda and out.heatmaps.dtype == torch.float32


def test_torch_runner_options(tiny):
    x = torch.randn(1, 3, 48, 64, generator=torch.Generator().manual_seed(3))
    ref = TorchRunner(tiny)(x)
    half = TorchRunner(tiny, dtype=torch.bfloat16)(x)
    assert half.heatmaps.dtype == torch.float32
    assert 0.0 < max(max_abs_difference(ref, half).values()) < 0.1  # really ran in bf16, and still close
    torch.manual_seed(0)
    other = lightweight(width=0.125).eval()  # channels_last converts in place: use a copy
    last = TorchRunner(other, channels_last=True)(x)
    assert max(max_abs_difference(ref, last).values()) < 1e-4
