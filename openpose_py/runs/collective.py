"""The few collectives a distributed run needs (gathering evaluation detections and the final summary), over a process
group that exists only for the run: gloo on the CPU, NCCL (with gloo for CPU objects) on CUDA."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from typing import Any, Iterator

from ..errors import DistributedError
from .context import RunContext

__all__ = ["process_group", "gather_to_root"]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def process_group(ctx: RunContext, device: str = "cpu", timeout_s: float = 7 * 24 * 3600.0) -> Iterator[None]:
    """Join the run's process group (from torchrun's ``MASTER_ADDR``/``MASTER_PORT``) for the block; nothing for a
    single process, or when a group is already initialised by the caller. The timeout is long (a week) because a
    process whose share is done waits at the final gather for the slowest one."""
    if not ctx.distributed:
        yield
        return
    import torch.distributed as dist

    if dist.is_initialized():
        yield
        return
    backend = "cpu:gloo,cuda:nccl" if device.startswith("cuda") else "gloo"
    try:
        dist.init_process_group(backend, rank=ctx.rank, world_size=ctx.world_size,
                                timeout=timedelta(seconds=timeout_s))
    except (ValueError, RuntimeError) as exc:
        raise DistributedError(f"cannot join the process group of rank {ctx.rank}/{ctx.world_size} "
                               f"(run under torchrun, which sets MASTER_ADDR and MASTER_PORT): {exc}") from exc
    log.debug("rank %d of %d joined a %s process group", ctx.rank, ctx.world_size, backend)
    try:
        yield
    finally:
        dist.destroy_process_group()


def gather_to_root(obj: Any, ctx: RunContext) -> list[Any] | None:
    """Every process's ``obj`` (picklable), in rank order, on rank 0; None on the other ranks. Needs
    :func:`process_group` around it when the run has several processes; every rank must call it."""
    if not ctx.distributed:
        return [obj]
    import torch.distributed as dist

    gathered: list[Any] | None = [None] * ctx.world_size if ctx.is_root else None
    dist.gather_object(obj, gathered, dst=0)
    return gathered
