"""Where this process sits in a training run, one process or one of many under ``torchrun`` (one device each), and
the process group that training's gradient averaging needs."""

from __future__ import annotations

import torch
import torch.distributed as dist

from ..runs.context import RunContext
from .config import TrainConfig, TrainConfigError

__all__ = ["init_distributed", "training_device"]


def training_device(name: str | None, local_rank: int = 0) -> torch.device:
    """The device ``name`` (``cpu``, ``cuda``, ``cuda:N``, ``mps``) stands for, a bare ``cuda`` being local GPU
    ``local_rank``; None: that GPU when CUDA is available, else the CPU.

    Raises:
        TrainConfigError: a name that is no device, or a device this machine does not have.
    """
    if name is None:
        return torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise TrainConfigError(f"unknown device {name!r}; training runs on cpu, cuda, cuda:N or mps") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            why = ("this PyTorch build has no CUDA support" if torch.version.cuda is None and torch.version.hip is None
                   else "none is visible to this process (check the driver and CUDA_VISIBLE_DEVICES)")
            raise TrainConfigError(f"no CUDA device: {why}; use --device cpu")
        if device.index is None:
            device = torch.device("cuda", local_rank)
        count = torch.cuda.device_count()
        if device.index >= count:
            raise TrainConfigError(f"no CUDA device {device}: this machine has {count} (cuda:0 .. cuda:{count - 1})")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise TrainConfigError("no MPS device: this machine or PyTorch build has none; use --device cpu")
    elif device.type != "cpu":
        raise TrainConfigError(f"unknown device {name!r}; training runs on cpu, cuda, cuda:N or mps")
    return device


def init_distributed(config: TrainConfig) -> tuple[RunContext, torch.device, bool]:
    """This process's place in the run (from ``torchrun``'s variables, :meth:`RunContext.from_env`), its device
    (``config.device``, a bare ``cuda`` being its local GPU; else its local GPU, else the CPU), and whether this call
    started the process group (NCCL on GPUs, gloo on the CPU; then the caller tears it down). A group the caller
    already started is joined as it is.

    Raises:
        DistributedError: a ``torchrun`` variable that is not an integer, or a rank outside its world.
        TrainConfigError: a device this process cannot use (:func:`training_device`).
    """
    ctx = RunContext.from_env()
    local = ctx.local_rank
    device = training_device(config.device, local)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    owns = False
    if ctx.distributed and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        owns = True
    if dist.is_initialized():
        ctx = RunContext(dist.get_rank(), dist.get_world_size(), local, ctx.local_world_size)
    return ctx, device, owns
