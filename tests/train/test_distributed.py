"""init_distributed: this process's place from torchrun's variables, its device, and who owns the process group."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from openpose_py.errors import DistributedError
from openpose_py.runs.context import RunContext
from openpose_py.train.config import TrainConfig
from openpose_py.train.distributed import init_distributed

_TORCHRUN = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")


def _config(tmp_path: Path, device: str | None = "cpu") -> TrainConfig:
    return TrainConfig(annotations=tmp_path / "a.json", images=tmp_path, output_dir=tmp_path / "out", device=device)


@pytest.fixture
def alone(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in _TORCHRUN:
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def test_a_single_process_starts_no_group(tmp_path: Path, alone: pytest.MonkeyPatch) -> None:
    ctx, device, owns = init_distributed(_config(tmp_path))
    assert ctx == RunContext() and device == torch.device("cpu") and owns is False
    assert not torch.distributed.is_initialized()


def test_without_a_device_it_takes_the_cpu_when_there_is_no_gpu(tmp_path: Path, alone: pytest.MonkeyPatch) -> None:
    alone.setattr(torch.cuda, "is_available", lambda: False)
    assert init_distributed(_config(tmp_path, device=None))[1] == torch.device("cpu")


@pytest.mark.parametrize("env, expected", [
    ({"WORLD_SIZE": "two"}, r"\$WORLD_SIZE must be an integer, got 'two'"),
    ({"RANK": "-1", "WORLD_SIZE": "2"}, "rank -1 is not within a world of size 2"),
    ({"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "2", "LOCAL_WORLD_SIZE": "2"}, "local rank 2 is not within 2"),
])
def test_unusable_variables_raise_before_any_group(tmp_path: Path, alone: pytest.MonkeyPatch, env: dict[str, str],
                                                   expected: str) -> None:
    for key, value in env.items():
        alone.setenv(key, value)
    with pytest.raises(DistributedError, match=expected):
        init_distributed(_config(tmp_path))
    assert not torch.distributed.is_initialized()


def test_a_device_this_machine_lacks_is_a_config_error(tmp_path: Path, alone: pytest.MonkeyPatch) -> None:
    """Failures: ``--device tpu`` ended in torch's RuntimeError and ``--device cuda`` without CUDA in an
    AttributeError (``_cuda_setDevice``), both tracebacks; each is now one line that says what is missing."""
    from openpose_py.train.config import TrainConfigError
    from openpose_py.train.distributed import training_device

    with pytest.raises(TrainConfigError, match="^unknown device 'tpu'; training runs on cpu, cuda, cuda:N or mps$"):
        training_device("tpu")
    alone.setattr(torch.cuda, "is_available", lambda: False)
    for name in ("cuda", "cuda:1"):
        with pytest.raises(TrainConfigError, match="^no CUDA device: "):
            init_distributed(TrainConfig(annotations=tmp_path / "a.json", images=tmp_path,
                                         output_dir=tmp_path / "out", device=name))
    alone.setattr(torch.cuda, "is_available", lambda: True)
    alone.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(TrainConfigError, match=r"^no CUDA device cuda:3: this machine has 1 \(cuda:0 .. cuda:0\)$"):
        training_device("cuda", local_rank=3)
    assert training_device("cpu") == torch.device("cpu")
