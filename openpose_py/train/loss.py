"""Masked L2 loss with intermediate supervision: every stage, both branches, against the same targets.

Scale follows the reference (Caffe's EuclideanLoss, also used by Lightweight OpenPose): the squared error summed over
channels and pixels, divided by ``2 B``. Being a per-sample mean, it is unchanged when a global batch is split over
data-parallel workers whose gradients are averaged, which the distributed test relies on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from ..models.outputs import StageOutput

__all__ = ["StageLoss", "LossReport", "masked_l2", "pose_loss"]


@dataclass(frozen=True, slots=True)
class StageLoss:
    """One stage's loss per branch (scalar tensors), None for a branch the stage does not predict."""

    heatmaps: Tensor | None
    pafs: Tensor | None


@dataclass(frozen=True, slots=True)
class LossReport:
    """The total loss (what is back-propagated) and its per-stage, per-branch parts."""

    total: Tensor
    stages: tuple[StageLoss, ...]

    def branch_total(self, branch: str) -> Tensor:
        """Sum over stages of one branch (``"heatmaps"`` or ``"pafs"``)."""
        parts = [getattr(s, branch) for s in self.stages if getattr(s, branch) is not None]
        return torch.stack(parts).sum() if parts else self.total.new_zeros(())

    def parts(self) -> dict[str, Tensor]:
        """Detached scalars by name: ``loss``, ``loss/heatmaps``, ``loss/pafs``, ``stage{i}/heatmaps`` ... (stages
        numbered from 1)."""
        out = {"loss": self.total.detach(), "loss/heatmaps": self.branch_total("heatmaps").detach(),
               "loss/pafs": self.branch_total("pafs").detach()}
        for i, s in enumerate(self.stages, start=1):
            for branch in ("heatmaps", "pafs"):
                value = getattr(s, branch)
                if value is not None:
                    out[f"stage{i}/{branch}"] = value.detach()
        return out

    def as_dict(self) -> dict[str, float]:
        """:meth:`parts` as plain numbers, for logging."""
        return {k: float(v) for k, v in self.parts().items()}


def masked_l2(prediction: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """``sum(mask * (prediction - target)^2) / (2 B)``.

    Args:
        prediction, target: (B, C, H, W).
        mask: (B, 1, H, W) loss weight, broadcast over channels.
    """
    if prediction.shape != target.shape:
        raise ValueError(f"prediction {tuple(prediction.shape)} and target {tuple(target.shape)} differ in shape")
    diff = (prediction.float() - target.float()) ** 2
    return (diff * mask.float()).sum() / (2.0 * prediction.shape[0])


def pose_loss(stages: Sequence[StageOutput], heatmaps: Tensor, pafs: Tensor, mask: Tensor) -> LossReport:
    """Intermediate supervision: the masked L2 of every stage's heatmaps and PAFs, summed.

    Args:
        stages: the network's output, one :class:`StageOutput` per stage; a branch that is None (BODY_25's PAF-only
            and heatmap-only stages) is skipped.
        heatmaps: (B, K+1, H, W) targets. pafs: (B, 2L, H, W) targets. mask: (B, 1, H, W).
    """
    parts: list[StageLoss] = []
    terms: list[Tensor] = []
    for stage in stages:
        hm = None if stage.heatmaps is None else masked_l2(stage.heatmaps, heatmaps, mask)
        pf = None if stage.pafs is None else masked_l2(stage.pafs, pafs, mask)
        terms += [t for t in (hm, pf) if t is not None]
        parts.append(StageLoss(hm, pf))
    if not terms:
        raise ValueError("the network produced no heatmaps and no PAFs to supervise")
    return LossReport(torch.stack(terms).sum(), tuple(parts))
