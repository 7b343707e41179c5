"""Where this process sits in a training run, one process or one of many under ``torchrun`` (one device each), and
the process group that training's gradient averaging needs."""

from __future__ import annotations

import torch
import torch.distributed as dist

from ..runs.context import RunContext
from .config import TrainConfig

__all__ = ["init_distributed"]


def init_distributed(config: TrainConfig) -> tuple[RunContext, torch.device, bool]:
    """This process's place in the run (from ``torchrun``'s variables, :meth:`RunContext.from_env`), its device
    (``config.device``, a bare ``cuda`` being its local GPU; else its local GPU, else the CPU), and whether this call
    started the process group (NCCL on GPUs, gloo on the CPU; then the caller tears it down). A group the caller
    already started is joined as it is.

    Raises:
        DistributedError: a ``torchrun`` variable that is not an integer, or a rank outside its world.
    """
    ctx = RunContext.from_env()
    local = ctx.local_rank
    if config.device is not None:
        device = torch.device(config.device)
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", local)
    else:
        device = torch.device("cuda", local) if torch.cuda.is_available() else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    owns = False
    if ctx.distributed and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        owns = True
    if dist.is_initialized():
        ctx = RunContext(dist.get_rank(), dist.get_world_size(), local, ctx.local_world_size)
    return ctx, device, owns
