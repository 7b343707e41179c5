"""Per-channel masks for the parts annotated people lack: where they apply, and what they do to the loss."""

from __future__ import annotations

import pytest
import torch

from openpose_py.codec.encode import encode_heatmaps, encode_pafs
from openpose_py.models.outputs import StageOutput
from openpose_py.skeleton import COCO_18
from openpose_py.train.loss import pose_loss
from openpose_py.train.masks import unlabelled_part_masks

_MAP = (24, 24)  # a 192 x 192 crop at stride 8


def _person() -> torch.Tensor:
    """(1, 2, 18, 3): a person whose right arm (shoulder to wrist) and neck are labelled around x 80-120,
    y 60-100 input pixels, nothing else; then a padding row."""
    kp = torch.zeros(1, 2, 18, 3)
    for name, (x, y) in {"Neck": (100, 60), "RShoulder": (84, 64), "RElbow": (80, 84), "RWrist": (96, 100),
                         "LShoulder": (116, 64)}.items():
        kp[0, 0, COCO_18.index(name)] = torch.tensor([x, y, 2.0])
    return kp


def test_masks_cover_missing_parts_near_their_person_only() -> None:
    kp = _person()
    hm_mask, paf_mask = unlabelled_part_masks(kp, COCO_18, _MAP)
    assert hm_mask.shape == (1, 19, *_MAP) and paf_mask.shape == (1, 38, *_MAP)
    # the labelled box spans cells ~9.5-14 in x and 7-12 in y; a margin of half its larger side (5 cells) widens it
    near, far = (9, 12), (22, 1)  # (row, column) cells
    lwrist, rwrist, background = COCO_18.index("LWrist"), COCO_18.index("RWrist"), 18
    assert hm_mask[0, lwrist][near] == 0 and hm_mask[0, lwrist][far] == 1
    assert hm_mask[0, background][near] == 0 and hm_mask[0, background][far] == 1
    assert bool((hm_mask[0, rwrist] == 1).all())  # a labelled part keeps its whole channel
    by_pair = {(lb.a, lb.b): lb for lb in COCO_18.limbs}
    arm = by_pair[(COCO_18.index("RShoulder"), COCO_18.index("RElbow"))]
    leg = by_pair[(COCO_18.index("RHip"), COCO_18.index("RKnee"))]
    half_arm = by_pair[(COCO_18.index("LShoulder"), COCO_18.index("LElbow"))]
    assert bool((paf_mask[0, [arm.paf_x, arm.paf_y]] == 1).all())
    for limb in (leg, half_arm):
        assert bool((paf_mask[0, [limb.paf_x, limb.paf_y]][(slice(None), *near)] == 0).all())
        assert bool((paf_mask[0, [limb.paf_x, limb.paf_y]][(slice(None), *far)] == 1).all())
    # the region is a box: everything well outside it keeps weight 1 in every channel
    assert bool((hm_mask[0, :, :, 20:] == 1).all()) and bool((paf_mask[0, :, 20:] == 1).all())
    # no labelled person (padding only): nothing is masked
    empty = unlabelled_part_masks(torch.zeros(2, 1, 18, 3), COCO_18, _MAP)
    assert all(bool((m == 1).all()) for m in empty)
    with pytest.raises(ValueError, match="heatmaps"):
        unlabelled_part_masks(torch.zeros(1, 1, 17, 3), COCO_18, _MAP)


def test_a_found_unlabelled_part_costs_nothing_only_with_the_masks() -> None:
    """The network finds the person's left elbow, which nobody labelled: the plain loss punishes that peak and its
    limb; with the unlabelled-part masks it costs nothing, while a wrong peak on a labelled part still costs."""
    kp = _person()
    heatmaps, pafs = encode_heatmaps(kp, _MAP), encode_pafs(kp, COCO_18, _MAP)
    mask = torch.ones(1, 1, *_MAP)
    with_elbow = kp.clone()
    with_elbow[0, 0, COCO_18.index("LElbow")] = torch.tensor([108.0, 84.0, 2.0])
    found = StageOutput(encode_heatmaps(with_elbow, _MAP), encode_pafs(with_elbow, COCO_18, _MAP))
    hm_mask, paf_mask = unlabelled_part_masks(kp, COCO_18, _MAP)
    assert float(pose_loss([found], heatmaps, pafs, mask).total) > 1.0
    assert float(pose_loss([found], heatmaps, pafs, mask * hm_mask, paf_mask=mask * paf_mask).total) == 0.0
    wrong = StageOutput(found.heatmaps.clone(), found.pafs)
    wrong.heatmaps[0, COCO_18.index("RWrist")] = 0.0  # the labelled wrist missed
    assert float(pose_loss([wrong], heatmaps, pafs, mask * hm_mask, paf_mask=mask * paf_mask).total) > 1.0
