"""Masked L2 loss with intermediate supervision: every stage, both branches, against the same targets.

Scale follows the reference (Caffe's EuclideanLoss, also used by Lightweight OpenPose): the squared error summed over
channels and pixels, divided by ``2 B``. Being a per-sample mean, it is unchanged when a global batch is split over
data-parallel workers whose gradients are averaged, which the distributed test relies on.

Fine-tuning may add a distillation term: the same L2 between every stage's outputs and those of a frozen copy of the
initial network (the teacher), unmasked, times a weight. It keeps the network close to what it knew where the new
annotations say nothing (masked crowds, people and keypoints nobody labelled) and where a few photos would pull it
away; with weight ``w`` each output's optimum is ``(target + w * teacher) / (1 + w)`` where the mask is 1. The term
may weigh less where the targets supervise (``distill_supervised``): then a confident teacher's labels are taken in
full, and the term holds the network where nothing else is taught (masked regions, unlabelled parts, anchor photos).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from ..models.outputs import StageOutput

__all__ = ["StageLoss", "LossReport", "masked_l2", "pose_loss", "distill_masks"]


@dataclass(frozen=True, slots=True)
class StageLoss:
    """One stage's loss per branch (scalar tensors), None for a branch the stage does not predict; ``distill`` is the
    weighted distance of both branches to the teacher's, None without a teacher."""

    heatmaps: Tensor | None
    pafs: Tensor | None
    distill: Tensor | None = None


@dataclass(frozen=True, slots=True)
class LossReport:
    """The total loss (what is back-propagated) and its per-stage, per-branch parts."""

    total: Tensor
    stages: tuple[StageLoss, ...]

    def branch_total(self, branch: str) -> Tensor:
        """Sum over stages of one part (``"heatmaps"``, ``"pafs"`` or ``"distill"``)."""
        parts = [getattr(s, branch) for s in self.stages if getattr(s, branch) is not None]
        return torch.stack(parts).sum() if parts else self.total.new_zeros(())

    def parts(self) -> dict[str, Tensor]:
        """Detached scalars by name: ``loss``, ``loss/heatmaps``, ``loss/pafs``, ``loss/distill`` (with a teacher),
        ``stage{i}/heatmaps`` ... (stages numbered from 1)."""
        branches = ("heatmaps", "pafs", "distill") if any(s.distill is not None for s in self.stages) \
            else ("heatmaps", "pafs")
        out = {"loss": self.total.detach()}
        out.update({f"loss/{b}": self.branch_total(b).detach() for b in branches})
        for i, s in enumerate(self.stages, start=1):
            for branch in branches:
                value = getattr(s, branch)
                if value is not None:
                    out[f"stage{i}/{branch}"] = value.detach()
        return out

    def as_dict(self) -> dict[str, float]:
        """:meth:`parts` as plain numbers, for logging."""
        return {k: float(v) for k, v in self.parts().items()}


def masked_l2(prediction: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
    """``sum(mask * (prediction - target)^2) / (2 B)``.

    Args:
        prediction, target: (B, C, H, W).
        mask: (B, 1, H, W) loss weight broadcast over channels, or (B, C, H, W) per channel; None weighs every
            pixel 1.
    """
    if prediction.shape != target.shape:
        raise ValueError(f"prediction {tuple(prediction.shape)} and target {tuple(target.shape)} differ in shape")
    diff = (prediction.float() - target.float()) ** 2
    if mask is not None:
        diff = diff * mask.float()
    return diff.sum() / (2.0 * prediction.shape[0])


def _distill(stage: StageOutput, teacher: StageOutput, weight: float,
             masks: tuple[Tensor | None, Tensor | None] = (None, None)) -> Tensor:
    """``weight`` times the L2 of a stage's branches to the teacher's same stage, weighed per pixel by ``masks``
    (heatmaps', PAFs'; None: unmasked)."""
    terms = [masked_l2(s, t.detach(), m) for s, t, m in ((stage.heatmaps, teacher.heatmaps, masks[0]),
                                                         (stage.pafs, teacher.pafs, masks[1])) if s is not None]
    return weight * torch.stack(terms).sum()


def distill_masks(mask: Tensor, paf_mask: Tensor | None, supervised: float) -> tuple[Tensor | None, Tensor | None]:
    """The distillation term's weights: ``supervised`` where the loss ``mask`` supervises, 1 where it does not
    (``supervised * m + 1 - m``); (None, None), unmasked, when ``supervised`` is 1."""
    if supervised == 1.0:
        return None, None
    paf = mask if paf_mask is None else paf_mask
    return tuple(1.0 - (1.0 - supervised) * m.float() for m in (mask, paf))  # type: ignore[return-value]


def pose_loss(stages: Sequence[StageOutput], heatmaps: Tensor, pafs: Tensor, mask: Tensor,
              teacher: Sequence[StageOutput] | None = None, distill: float = 0.0, *,
              paf_mask: Tensor | None = None, distill_supervised: float = 1.0) -> LossReport:
    """Intermediate supervision: the masked L2 of every stage's heatmaps and PAFs, summed; with ``teacher`` (the
    frozen initial network's stages on the same input), plus ``distill`` times every stage's distance to them.

    Args:
        stages: the network's output, one :class:`StageOutput` per stage; a branch that is None (BODY_25's PAF-only
            and heatmap-only stages) is skipped.
        heatmaps: (B, K+1, H, W) targets. pafs: (B, 2L, H, W) targets.
        mask: (B, 1, H, W), or (B, K+1, H, W) per heatmap channel; ``paf_mask`` (B, 1 or 2L, H, W) weighs the PAFs
            instead when given.
        teacher: stages of the same architecture, or None (no distillation term).
        distill: the term's weight (>= 0).
        distill_supervised: the term's factor where ``mask`` supervises (1 where it does not;
            :func:`distill_masks`).
    """
    if teacher is not None and len(teacher) != len(stages):
        raise ValueError(f"the teacher has {len(teacher)} stages, the network {len(stages)}")
    parts: list[StageLoss] = []
    terms: list[Tensor] = []
    kd_masks = distill_masks(mask, paf_mask, distill_supervised) if teacher is not None else (None, None)
    for i, stage in enumerate(stages):
        hm = None if stage.heatmaps is None else masked_l2(stage.heatmaps, heatmaps, mask)
        pf = None if stage.pafs is None else masked_l2(stage.pafs, pafs, mask if paf_mask is None else paf_mask)
        kd = None if teacher is None else _distill(stage, teacher[i], distill, kd_masks)
        terms += [t for t in (hm, pf, kd) if t is not None]
        parts.append(StageLoss(hm, pf, kd))
    if not terms:
        raise ValueError("the network produced no heatmaps and no PAFs to supervise")
    return LossReport(torch.stack(terms).sum(), tuple(parts))
