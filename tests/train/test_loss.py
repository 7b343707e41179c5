"""Masked L2 with intermediate supervision, and the targets checked against the pretrained network on real data."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from openpose_py import models
from openpose_py.data import AugmentConfig, CocoKeypoints, collate
from openpose_py.codec.encode import encode_heatmaps, encode_pafs
from openpose_py.models.outputs import StageOutput
from openpose_py.train.loss import masked_l2, pose_loss
from openpose_py.preprocess import normalise


def test_masked_l2_value_and_mask() -> None:
    torch.manual_seed(0)
    pred, target = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5)
    mask = torch.ones(2, 1, 4, 5)
    assert masked_l2(pred, target, mask) == pytest.approx(float(((pred - target) ** 2).sum() / 4), rel=1e-6)
    mask[:, :, :2] = 0
    pred2 = pred.clone()
    pred2[:, :, :2] += 100.0  # errors under the mask do not count
    assert masked_l2(pred2, target, mask) == pytest.approx(float(masked_l2(pred, target, mask)), rel=1e-6)
    assert masked_l2(pred, target, mask) == pytest.approx(float(((pred - target)[:, :, 2:] ** 2).sum() / 4),
                                                          rel=1e-6)
    with pytest.raises(ValueError, match="shape"):
        masked_l2(pred, target[:, :2], mask)


def test_every_stage_and_branch_is_supervised_none_skipped() -> None:
    torch.manual_seed(1)
    hm, pf, mask = torch.rand(2, 4, 6, 6), torch.rand(2, 8, 6, 6), torch.ones(2, 1, 6, 6)
    stages = (StageOutput(None, torch.zeros_like(pf)), StageOutput(None, pf.clone()),
              StageOutput(torch.zeros_like(hm), None), StageOutput(hm + 1.0, None))
    report = pose_loss(stages, hm, pf, mask)
    zero_pf, zero_hm = float((pf ** 2).sum() / 4), float((hm ** 2).sum() / 4)
    assert report.stages[0].heatmaps is None and report.stages[0].pafs == pytest.approx(zero_pf, rel=1e-6)
    assert report.stages[1].pafs == 0
    assert report.stages[2].heatmaps == pytest.approx(zero_hm, rel=1e-6)
    assert report.stages[3].heatmaps == pytest.approx(hm.numel() / 4, rel=1e-6)
    assert float(report.total) == pytest.approx(zero_pf + zero_hm + hm.numel() / 4, rel=1e-6)
    logged = report.as_dict()
    assert set(logged) == {"loss", "loss/heatmaps", "loss/pafs", "stage1/pafs", "stage2/pafs", "stage3/heatmaps",
                           "stage4/heatmaps"}
    # gradients reach every supervised stage
    pred = torch.zeros_like(hm, requires_grad=True)
    pose_loss((StageOutput(pred, pf), StageOutput(pred * 2, pf)), hm, pf, mask).total.backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0


def test_distillation_pulls_every_stage_toward_the_teacher_everywhere() -> None:
    """The distillation term is the weighted, unmasked L2 of each stage to the teacher's same stage: zero when they
    agree, logged per stage, blind to the loss mask, and minimised at ``(target + w * teacher) / (1 + w)`` where the
    mask is 1."""
    torch.manual_seed(2)
    hm, pf = torch.rand(2, 4, 6, 6), torch.rand(2, 8, 6, 6)
    mask = torch.ones(2, 1, 6, 6)
    mask[:, :, :3] = 0
    teacher = (StageOutput(torch.rand_like(hm), torch.rand_like(pf)), StageOutput(torch.rand_like(hm), None))
    same = pose_loss(teacher, hm, pf, mask, teacher, distill=3.0)
    assert set(same.as_dict()) >= {"loss/distill", "stage1/distill", "stage2/distill"}
    assert same.as_dict()["loss/distill"] == 0.0
    assert pose_loss(teacher, hm, pf, mask).total == same.total  # no teacher: the plain loss, no distill key
    assert "loss/distill" not in pose_loss(teacher, hm, pf, mask).as_dict()
    # under the mask (where the targets say nothing) the teacher still counts
    moved = (StageOutput(teacher[0].heatmaps.clone(), teacher[0].pafs), teacher[1])
    moved[0].heatmaps[:, :, :3] += 1.0
    kd = pose_loss(moved, hm, pf, mask, teacher, distill=3.0).stages[0].distill
    assert float(kd) == pytest.approx(3.0 * moved[0].heatmaps[:, :, :3].numel() / 4, rel=1e-6)
    # gradient descent on one stage's outputs converges to the weighted mean of target and teacher
    w = 3.0
    pred = torch.zeros_like(hm, requires_grad=True)
    opt = torch.optim.SGD([pred], lr=0.4)
    for _ in range(200):
        opt.zero_grad()
        pose_loss([StageOutput(pred, None)], hm, pf, mask, [StageOutput(teacher[0].heatmaps, None)], w).total.backward()
        opt.step()
    expected = torch.where(mask.bool(), (hm + w * teacher[0].heatmaps) / (1 + w), teacher[0].heatmaps)
    assert torch.allclose(pred.detach(), expected, atol=1e-4)
    with pytest.raises(ValueError, match="stages"):
        pose_loss(teacher, hm, pf, mask, teacher[:1], distill=1.0)


def test_distillation_can_keep_to_where_nothing_is_taught() -> None:
    """With ``distill_supervised`` s, the term weighs s where the mask supervises and 1 where it does not (per
    channel when the mask is), so at s = 0 the targets are taken in full where they teach."""
    torch.manual_seed(3)
    hm, pf = torch.rand(2, 4, 6, 6), torch.rand(2, 8, 6, 6)
    mask = torch.ones(2, 4, 6, 6)
    mask[:, 1, :3] = 0  # one channel unsupervised in the upper half
    teacher = [StageOutput(torch.rand_like(hm), torch.rand_like(pf))]
    stage = [StageOutput(torch.zeros_like(hm), torch.zeros_like(pf))]
    sq_hm, sq_pf = teacher[0].heatmaps ** 2, teacher[0].pafs ** 2
    for s in (0.0, 0.25, 1.0):
        kd = pose_loss(stage, hm, pf, mask, teacher, distill=2.0, paf_mask=torch.ones(2, 1, 6, 6),
                       distill_supervised=s).stages[0].distill
        weight = torch.where(mask.bool(), s, 1.0)
        expected = 2.0 * (float((weight * sq_hm).sum()) + s * float(sq_pf.sum())) / 4
        assert float(kd) == pytest.approx(expected, rel=1e-5)
    pred = torch.zeros_like(hm, requires_grad=True)
    opt = torch.optim.SGD([pred], lr=0.4)
    for _ in range(200):
        opt.zero_grad()
        pose_loss([StageOutput(pred, None)], hm, pf, mask, [StageOutput(teacher[0].heatmaps, None)], 3.0,
                  paf_mask=torch.ones(2, 1, 6, 6), distill_supervised=0.0).total.backward()
        opt.step()
    assert torch.allclose(pred.detach(), torch.where(mask.bool(), hm, teacher[0].heatmaps), atol=1e-4)


@pytest.mark.slow
def test_pretrained_network_agrees_with_the_targets(dev_set: tuple[Path, Path]) -> None:
    """On the dev images (augmented as in training), the pretrained Lightweight network's loss against our targets is
    under half that of the same network with random weights, per branch, and grows when the left/right labels of
    the targets are swapped (so the test sees a wrong channel convention)."""
    from openpose_py.weights import load_model

    pretrained, spec = load_model("lightweight")
    torch.manual_seed(0)
    random_net = models.create(spec.architecture, **spec.builder_kwargs).eval()
    config = AugmentConfig()
    ds = CocoKeypoints(*dev_set, spec.skeleton, config, seed=0)
    batch = collate([ds[(i, i)] for i in range(len(ds))])
    size = (config.map_size, config.map_size)
    skeleton = spec.skeleton

    x = normalise(batch.images, spec.preprocess)
    with torch.no_grad():
        out_pretrained, out_random = pretrained(x), random_net(x)

    def loss(stages, keypoints: torch.Tensor) -> dict[str, float]:
        heat = encode_heatmaps(keypoints, size)
        pafs = encode_pafs(keypoints, skeleton, size)
        return pose_loss(stages, heat, pafs, batch.masks).as_dict()

    ours = loss(out_pretrained, batch.keypoints)
    rand = loss(out_random, batch.keypoints)
    swapped = loss(out_pretrained, batch.keypoints[:, :, list(skeleton.flip_keypoints)])
    for branch in ("loss/heatmaps", "loss/pafs"):
        assert ours[branch] < 0.5 * rand[branch], (branch, ours, rand)
        assert ours[branch] < swapped[branch], (branch, ours, swapped)


def test_crowds_and_people_without_keypoints_do_not_count_in_the_loss(tmp_path: Path) -> None:
    """A synthetic photo with an annotated person, a crowd region (RLE) and a person without keypoints (polygon):
    through the dataset, the batch targets and the loss, any prediction over the crowd and the unannotated person
    costs nothing, the same error over the annotated person's background does, and neither of them is a target."""
    import numpy as np
    from pycocotools import mask as mask_utils

    from openpose_py.codec import PafCodec
    from openpose_py.skeleton import COCO_18
    from openpose_py.train.targets import encode_targets

    from ..data.test_coco import _BODY, _person, _write_set

    h, w = 100, 100
    crowd = np.zeros((h, w), np.uint8, order="F")
    crowd[10:40, 70:95] = 1
    rle = mask_utils.encode(crowd)
    rle["counts"] = rle["counts"].decode()
    anns = [_person(1, 1, _BODY, bbox=(25.0, 15.0, 35.0, 50.0)),
            _person(1, 2, {}, crowd=True, segmentation=rle),
            _person(1, 3, {}, segmentation=[[5, 60, 25, 60, 25, 90, 5, 90]])]
    images, annotations = _write_set(tmp_path, anns, {1: (w, h)})
    # scale 1 crop of 96 around the person: the whole 100x100 photo lands inside it at about scale 1.1
    ds = CocoKeypoints(images, annotations, COCO_18, AugmentConfig.identity(crop_size=96))
    batch = collate([ds[0]])
    assert batch.keypoints.shape[1] == 1  # only the annotated person is a target
    heatmaps, pafs = encode_targets(batch, PafCodec(COCO_18, stride=8, sigma=7.0, paf_width=1.0))
    mask = batch.masks
    ignored, kept = mask[0, 0] == 0, mask[0, 0] == 1
    assert ignored.sum() >= 8  # both regions reach the 12x12 map
    assert pose_loss([StageOutput(heatmaps, pafs)], heatmaps, pafs, mask).total == 0

    def loss_with_error_at(cells: torch.Tensor) -> float:
        wrong_h, wrong_p = heatmaps.clone(), pafs.clone()
        wrong_h[0, :, cells] += 1.0  # a person everywhere there
        wrong_p[0, :, cells] += 1.0
        return float(pose_loss([StageOutput(wrong_h, wrong_p)], heatmaps, pafs, mask).total)

    assert loss_with_error_at(ignored) == 0.0
    assert loss_with_error_at(kept) > 0.0
    # the crowd lies right of the person, the keypoint-less person left-below: both masked, not only one
    cols = ignored.nonzero()[:, 1]
    assert cols.min() < 4 and cols.max() > 7
