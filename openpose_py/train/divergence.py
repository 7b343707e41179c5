"""Noticing that a run diverged: the first step whose loss was not finite, and weights that are not, found before
anything is logged, validated or saved from them (a checkpoint of good weights is never replaced by broken ones).

Each step's loss is compared on its device, without waiting for it; the trainer asks at the points where it waits
anyway (a metrics record, a validation, a checkpoint), so that a run of a few thousand steps per second pays nothing.
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
from torch import Tensor, nn

from ..weights.shapes import non_finite_tensors

__all__ = ["DivergenceWatch", "weights_finite"]


def weights_finite(model: nn.Module) -> bool:
    """Whether every floating-point parameter and buffer (batch-norm statistics too) of ``model`` is finite."""
    return not non_finite_tensors(model.state_dict())


class DivergenceWatch:
    """The first step whose loss was not finite (nan or inf), kept on ``device``."""

    def __init__(self, device: torch.device) -> None:
        # Python numbers enter the updates as kernel arguments: no copy to the device, so no wait for it
        self._step = torch.zeros((), dtype=torch.float32, device=device)  # 0: none yet
        self._loss = torch.zeros((), dtype=torch.float32, device=device)

    def update(self, step: int, loss: Tensor) -> None:
        """Note step ``step``'s loss (a scalar tensor) when it is the first that is not finite."""
        loss = loss.detach().to(self._loss.dtype).reshape(())
        new = (self._step == 0) & ~torch.isfinite(loss)
        self._step = torch.where(new, float(step), self._step)
        self._loss = torch.where(new, loss, self._loss)

    def first(self, distributed: bool = False) -> tuple[int, str] | None:
        """(step, the loss as text) of the first non-finite loss, or None; ``distributed``: the earliest over all
        ranks (a collective: every rank calls it), the loss then reading ``non-finite`` when another rank saw it."""
        step, loss = float(self._step), float(self._loss)
        if distributed:
            earliest = torch.where(self._step > 0, self._step, math.inf).reshape(1)
            dist.all_reduce(earliest, op=dist.ReduceOp.MIN)
            other = float(earliest[0])
            if not math.isfinite(other):
                return None
            if other != step:
                return int(other), "non-finite"
        return (int(step), str(loss)) if step > 0 else None
