"""The step-0 check's target scale: what it computes, and what it shows for the pretrained network on real photos."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from openpose_py.data import AugmentConfig, CocoKeypoints
from openpose_py.models.outputs import StageOutput
from openpose_py.train.targets import check_targets, target_scales


def test_the_scale_is_the_masked_least_squares_factor_from_outputs_to_targets() -> None:
    """Outputs that are the targets divided by 2 are asked to double, outputs 4x the targets to shrink to a quarter;
    the background channel, masked pixels and a branch a stage lacks do not count."""
    torch.manual_seed(0)
    heatmaps, pafs = torch.rand(2, 4, 6, 7), torch.randn(2, 6, 6, 7)
    mask = torch.ones(2, 1, 6, 7)
    mask[:, :, :, :3] = 0.0
    half = StageOutput(heatmaps / 2, pafs / 2)
    half.heatmaps[:, 3] = 50.0  # the background channel is left out
    half.heatmaps[:, :3, :, :3] = 9.0  # so are masked pixels
    four = StageOutput(heatmaps * 4, None)
    scales = target_scales([half, four], heatmaps, pafs, mask)
    assert scales.keys() == {"stage1/heatmaps", "stage1/pafs", "stage2/heatmaps"}
    assert scales["stage1/heatmaps"] == pytest.approx(2.0) and scales["stage1/pafs"] == pytest.approx(2.0)
    assert scales["stage2/heatmaps"] == pytest.approx(0.25)
    paf_mask = torch.zeros(2, 1, 6, 7)
    assert math.isnan(target_scales([half], heatmaps, pafs, mask, paf_mask)["stage1/pafs"])


@pytest.mark.slow
def test_the_pretrained_network_is_asked_to_shrink_its_pafs_at_the_reference_width(
        dev_set: tuple[Path, Path]) -> None:
    """On the dev photos, the pretrained network's heatmaps fit sigma 7 at about their own scale, but its PAFs spread
    wider than the reference's one-cell band: there the targets ask them to shrink, at a two-cell band to grow."""
    from openpose_py.weights import load_model

    model, spec = load_model("lightweight")
    dataset = CocoKeypoints(*dev_set, spec.skeleton, AugmentConfig.identity(), seed=0)
    assert (spec.codec.sigma, spec.codec.paf_width) == (7.0, 1.0)  # the reference targets travel with the weights
    narrow = check_targets(model, spec, dataset).scales
    wide = check_targets(model, replace(spec, codec=spec.codec.replace(paf_width=2.0)), dataset).scales
    last = max(int(k.split("/")[0][5:]) for k in narrow)
    assert 0.85 < narrow[f"stage{last}/heatmaps"] < 1.15, narrow
    assert narrow[f"stage{last}/pafs"] < 0.95 < 1.0 < wide[f"stage{last}/pafs"], (narrow, wide)
