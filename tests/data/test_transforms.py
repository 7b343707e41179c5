"""Joint augmentation: image, keypoints, mask and targets move together; the random draws are seeded and in range."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from openpose_py.data.coco import CocoKeypoints, DatasetConfig
from openpose_py.data.transforms import AugmentConfig, AugmentParams, augment, draw_params
from openpose_py.codec.encode import encode_heatmaps
from openpose_py.skeleton import COCO_18


def _draw(image: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """The people's limbs and keypoints, each keypoint labelled with its name's first two letters (LW = LWrist)."""
    out = image.copy()
    for person in keypoints:
        for limb in COCO_18.render_limbs:
            a, b = person[limb.a], person[limb.b]
            if a[2] > 0 and b[2] > 0:
                cv2.line(out, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), COCO_18.colors[limb.b], 2)
        for k, (x, y, v) in enumerate(person):
            if v > 0:
                cv2.circle(out, (round(x), round(y)), 3, COCO_18.colors[k], -1)
                name = COCO_18.keypoints[k]
                if name[0] in "LR":
                    cv2.putText(out, name[:2], (round(x) + 3, round(y) - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                                (255, 255, 255), 1)
    return out


def _marker_centroid(source: np.ndarray, xy: np.ndarray, radius: int, warp) -> np.ndarray | None:
    """Paint a disc at ``xy`` on a black copy of ``source``, warp it with ``warp``; the bright centroid or None."""
    # grey like the crop padding, so that only the disc stands out after the warp
    marker = np.full_like(source, 128)
    cv2.circle(marker, (round(xy[0]), round(xy[1])), radius, (255, 255, 255), -1)
    # the disc is drawn at a rounded centre: compare against that, not against the sub-pixel keypoint
    warped = np.clip(warp(marker)[..., 0].astype(np.float64) - 128.0, 0.0, None)
    if warped.sum() < 127.0 * 4:  # the disc left the crop
        return None
    ys, xs = np.nonzero(warped)
    w = warped[ys, xs]
    return np.array([(xs * w).sum() / w.sum(), (ys * w).sum() / w.sum()])


def test_keypoints_heatmap_peaks_and_pixels_move_together(tmp_path: Path, dev_set: tuple[Path, Path]) -> None:
    """Discs painted on the source at each keypoint land (after the image warp) on the transformed keypoint of the
    flipped label, and the encoded heatmap of that label peaks within one cell of them; the pictures are saved."""
    config = AugmentConfig()
    ds = CocoKeypoints(*dev_set, COCO_18, config)
    rng = np.random.default_rng(0)
    checked = 0
    for index in (0, 4, 9):
        src = ds.source(index)
        for flip in (False, True):
            drawn = draw_params(config, rng)
            params = AugmentParams(drawn.scale, drawn.rotation, drawn.shift, flip)
            out = augment(src.image, src.keypoints, src.mask, src.center, src.height, COCO_18, config, params)
            cv2.imwrite(str(tmp_path / f"aug_{src.image_id}_{'flip' if flip else 'noflip'}.jpg"),
                        _draw(out.image, out.keypoints))
            heat = encode_heatmaps(torch.from_numpy(out.keypoints), (config.map_size, config.map_size)).numpy()
            # a disc a few crop pixels wide whatever the scale
            scale = np.hypot(*out.matrix[:, 0])
            radius = max(2, round(2.5 / scale))

            def warp(img: np.ndarray) -> np.ndarray:
                return augment(img, src.keypoints[:0], None, src.center, src.height, COCO_18, config, params).image

            for p, person in enumerate(src.keypoints):
                alone = encode_heatmaps(torch.from_numpy(out.keypoints[p:p + 1]),
                                        (config.map_size, config.map_size)).numpy()
                for k in np.flatnonzero(person[:, 2] > 0):
                    label = COCO_18.flip_keypoints[k] if flip else k
                    kp = out.keypoints[p, label]
                    centroid = _marker_centroid(src.image, person[k], radius, warp)
                    near_border = kp[2] > 0 and min(*kp[:2], config.crop_size - 1 - kp[0],
                                                    config.crop_size - 1 - kp[1]) < 5
                    if centroid is None or kp[2] == 0 or near_border:
                        continue
                    expected = out.matrix @ np.array([round(person[k][0]), round(person[k][1]), 1.0])
                    assert np.allclose(centroid, expected, atol=1.0), (src.image_id, k, centroid, expected)
                    assert np.allclose(kp[:2], out.matrix @ np.array([*person[k][:2], 1.0]), atol=1e-3)
                    # the heatmap channel of this person alone peaks on the painted disc, within one cell
                    single = alone[label]
                    j, i = np.unravel_index(np.argmax(single), single.shape)
                    cell = np.array([8 * i + 3.5, 8 * j + 3.5])
                    assert np.abs(cell - centroid).max() <= config.stride, (src.image_id, k, cell, centroid)
                    assert heat[label, j, i] == pytest.approx(single[j, i])
                    checked += 1
    assert checked >= 40
    assert len(list(tmp_path.glob("aug_*.jpg"))) == 6


def test_mask_follows_the_image() -> None:
    """A region painted dark in the image and zero in the mask stays aligned through a rotated, flipped warp."""
    config = AugmentConfig(crop_size=128)
    image = np.full((200, 160, 3), 200, np.uint8)
    mask = np.ones((200, 160), np.float32)
    image[40:100, 20:70] = 0
    mask[40:100, 20:70] = 0.0
    params = AugmentParams(1.0, 25.0, (5.0, -7.0), True)
    out = augment(image, np.zeros((0, 18, 3), np.float32), mask, (60.0, 80.0), 80.0, COCO_18, config, params)
    dark = cv2.resize((out.image[..., 0] < 100).astype(np.float32), out.mask.shape[::-1], interpolation=cv2.INTER_AREA)
    ignored = out.mask < 0.5
    assert ignored.sum() > 10
    assert (dark[ignored] > 0.5).mean() > 0.95
    assert (out.mask[dark > 0.9] < 0.1).mean() > 0.95
    # padding outside the source image is supervised background
    small = augment(image[:40, :40], np.zeros((0, 18, 3), np.float32), mask[:40, :40], (20.0, 20.0), 80.0, COCO_18,
                    config, params)
    assert (small.image[0, 0] == config.pad_value).all() and small.mask[0, 0] == 1.0


def test_identity_centres_the_person_at_reference_scale() -> None:
    config = AugmentConfig.identity(crop_size=184)
    kps = np.array([[[50.0, 20.0, 2.0], [50.0, 120.0, 2.0]]], np.float32)  # a 100 px tall "person"
    kps = np.concatenate([kps, np.zeros((1, 16, 3), np.float32)], axis=1)
    params = draw_params(config, np.random.default_rng(3))
    out = augment(np.zeros((150, 100, 3), np.uint8), kps, None, (50.0, 70.0), 100.0, COCO_18, config, params)
    mid = (184 - 1) / 2
    np.testing.assert_allclose(out.keypoints[0, :2, :2], [[mid, mid - 0.3 * 184], [mid, mid + 0.3 * 184]], atol=1e-4)
    assert out.mask.shape == (23, 23) and (out.mask == 1).all()


def test_points_leaving_the_crop_are_dropped() -> None:
    config = AugmentConfig.identity(crop_size=64)
    kps = np.zeros((1, 18, 3), np.float32)
    kps[0, 0] = (10.0, 10.0, 2.0)
    kps[0, 1] = (500.0, 10.0, 1.0)
    out = augment(np.zeros((100, 600, 3), np.uint8), kps, None, (10.0, 10.0), 64 / config.target_dist, COCO_18,
                  config, draw_params(config, np.random.default_rng(0)))
    assert out.keypoints[0, 0, 2] == 2.0 and (out.keypoints[0, 1] == 0).all()


def test_draws_are_seeded_and_within_the_recipe_ranges() -> None:
    config = AugmentConfig()
    a = [draw_params(config, np.random.default_rng([7, i])) for i in range(400)]
    b = [draw_params(config, np.random.default_rng([7, i])) for i in range(400)]
    assert a == b
    scales = np.array([p.scale for p in a])
    rotations = np.array([p.rotation for p in a])
    shifts = np.array([p.shift for p in a])
    assert 0.5 <= scales.min() and scales.max() <= 1.1 and scales.max() - scales.min() > 0.5
    assert np.abs(rotations).max() <= 40 and np.abs(rotations).max() > 35
    assert np.abs(shifts).max() <= 40 and np.abs(shifts).max() > 35
    assert 0.4 < np.mean([p.flip for p in a]) < 0.6


@pytest.mark.parametrize("kwargs", [{"crop_size": 100}, {"scale_range": (1.2, 1.0)}, {"flip_prob": 1.5}])
def test_invalid_config_is_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        AugmentConfig(**kwargs)


def test_dataset_samples_are_reproducible_and_differ_between_draws(dev_set: tuple[Path, Path]) -> None:
    ds = CocoKeypoints(*dev_set, COCO_18, AugmentConfig(crop_size=128),
                       DatasetConfig(), seed=5)
    a, b, c = ds[(2, 11)], ds[(2, 11)], ds[(2, 12)]
    assert torch.equal(a.image, b.image) and torch.equal(a.keypoints, b.keypoints) and torch.equal(a.mask, b.mask)
    assert not torch.equal(a.image, c.image)
