"""The one output type of every network, in training and inference alike."""

from __future__ import annotations

from typing import NamedTuple, Sequence

from torch import Tensor

__all__ = ["StageOutput", "final_output"]


class StageOutput(NamedTuple):
    """One stage's predictions at stride 8.

    heatmaps: (B, K+1, H, W), the last channel is background. pafs: (B, 2L, H, W), x and y channels per skeleton limb.
    A stage that does not predict a branch (BODY_25's PAF-only and heatmap-only stages) holds None there.
    """

    heatmaps: Tensor | None
    pafs: Tensor | None


def final_output(stages: Sequence[StageOutput]) -> StageOutput:
    """The newest prediction of each branch over a network's stages (what inference decodes)."""
    heatmaps = next((s.heatmaps for s in reversed(stages) if s.heatmaps is not None), None)
    pafs = next((s.pafs for s in reversed(stages) if s.pafs is not None), None)
    if heatmaps is None or pafs is None:
        raise ValueError("network produced no heatmaps or no PAFs")
    return StageOutput(heatmaps, pafs)
