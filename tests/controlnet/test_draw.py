"""ControlNet-style pictures are pixel-identical to controlnet_aux 0.0.10's for the same poses: people found in real
photos (with hands and faces placed on them, since the shipped model finds bodies), and random poses."""

from __future__ import annotations

import numpy as np
import pytest

from openpose_py.controlnet import BodyResult, ControlNetStyle, Keypoint, PoseResult, draw_poses, pose_results
from openpose_py.controlnet.poses import MISSING
from openpose_py.images import load_image

from .conftest import reference_draw_poses

PHOTOS = ("mmpose-samples/coco/000000196141.jpg", "mmpose-samples/coco/000000197388.jpg",
          "mmpose-samples/ochuman/000817.jpg", "coco-val2017-dev/images/000000214753.jpg")


def _part_around(rng: np.random.Generator, centre: Keypoint | None, count: int, spread: float) -> list[Keypoint]:
    """``count`` points scattered round ``centre``, a few of them missing, one on the picture's left edge."""
    cx, cy = (0.5, 0.5) if centre is None else (centre.x, centre.y)
    xy = np.array([cx, cy]) + rng.normal(0.0, spread, size=(count, 2))
    points = [Keypoint(float(x), float(y), float(rng.uniform(0.1, 1.0))) for x, y in xy]
    for i in rng.choice(count, size=3, replace=False):
        points[i] = MISSING
    points[-1] = points[-1]._replace(x=0.0)
    return points


def _with_parts(poses: list[PoseResult], seed: int) -> list[PoseResult]:
    rng = np.random.default_rng(seed)
    out = []
    for pose in poses:
        kp = pose.body.keypoints
        out.append(pose._replace(left_hand=_part_around(rng, kp[7], 21, 0.02),
                                 right_hand=_part_around(rng, kp[4], 21, 0.02),
                                 face=_part_around(rng, kp[0], 70, 0.01)))
    return out


@pytest.fixture(scope="module")
def photo_poses(shared_dir, default_estimator) -> list[tuple[tuple[int, int], list[PoseResult]]]:
    found = []
    for name in PHOTOS:
        image = load_image(shared_dir / "data" / name)
        height, width = image.shape[:2]
        found.append(((height, width), pose_results(default_estimator(image), width, height)))
    assert sum(len(p) for _, p in found) >= 12  # several people in each photo
    return found


@pytest.mark.parametrize("parts", [False, True], ids=["body", "body+hands+face"])
def test_photos_draw_like_controlnet_aux(reference, photo_poses, parts: bool) -> None:
    for i, ((height, width), poses) in enumerate(photo_poses):
        if parts:
            poses = _with_parts(poses, seed=i)
        for h, w in ((height, width), (512, 768)):  # the photo's size and a detect-resolution canvas
            ours = draw_poses(poses, h, w)
            theirs = reference_draw_poses(reference, poses, h, w)
            assert ours.any()
            np.testing.assert_array_equal(ours, theirs)
        only_hands = draw_poses(poses, height, width, draw_body=False, draw_face=False)
        np.testing.assert_array_equal(
            only_hands, reference_draw_poses(reference, poses, height, width, draw_body=False, draw_face=False))


def _random_pose(rng: np.random.Generator) -> PoseResult:
    def points(n: int, missing: float, none: bool) -> list[Keypoint | None]:
        xy = rng.uniform(-0.1, 1.1, size=(n, 2))
        gone = rng.random(n) < missing
        return [(None if none else MISSING) if g else Keypoint(float(x), float(y)) for (x, y), g in zip(xy, gone)]

    body = points(18, 0.2, none=True)
    return PoseResult(BodyResult(body, 1.0, sum(k is not None for k in body)), points(21, 0.2, False),
                      points(21, 0.2, False) if rng.random() < 0.7 else None, points(70, 0.1, False))


def test_random_poses_draw_like_controlnet_aux(reference) -> None:
    rng = np.random.default_rng(28)
    for size in ((512, 512), (384, 640), (97, 131)):
        for _ in range(40):
            poses = [_random_pose(rng) for _ in range(int(rng.integers(1, 4)))]
            np.testing.assert_array_equal(draw_poses(poses, *size), reference_draw_poses(reference, poses, *size))


def test_empty_parts_draw_nothing() -> None:
    pose = PoseResult(BodyResult([None] * 18, 0.0, 0), None, [], None)
    assert not draw_poses([pose], 64, 64).any()


def test_style_draws_bgr_on_black_at_the_size_asked(shared_dir, default_estimator) -> None:
    image = load_image(shared_dir / "data" / PHOTOS[0])
    people = default_estimator(image)
    height, width = image.shape[:2]
    rgb = draw_poses(pose_results(people, width, height), height, width)
    np.testing.assert_array_equal(ControlNetStyle().draw(image, people), rgb[:, :, ::-1])
    assert ControlNetStyle(size=(320, 200)).draw(image, people).shape == (200, 320, 3)
    fewer = ControlNetStyle(threshold=0.99).draw(image, people)
    assert fewer.sum() < rgb.sum()
