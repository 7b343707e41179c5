"""Constant-velocity motion: prediction, velocity from the seen keypoints, unseen keypoints carried along."""

from __future__ import annotations

import numpy as np

from openpose_py.track.motion import _masked_median, observe, predict
from openpose_py.track.similarity import keypoint_box_area, oks_matrix


def test_masked_median_equals_numpys_nanmedian():
    rng = np.random.default_rng(1)
    values, mask = rng.normal(size=(40, 18, 2)), rng.random((40, 18)) < 0.5
    mask[0] = False
    expected = np.nanmedian(np.where(mask[..., None], values, np.nan)[1:], axis=1)
    np.testing.assert_allclose(_masked_median(values, mask)[1:], expected)
    assert (_masked_median(values, mask)[0] == 0).all()


def test_observe_measures_velocity_and_moves_unseen_keypoints_with_the_body():
    xy = np.array([[[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]]])
    seen = np.ones((1, 3), bool)
    new = xy + (3.0, 0.0)
    new[0, 1] = (100.0, 100.0)  # an outlier: the median ignores it
    new_ok = np.array([[True, True, False]])  # the third keypoint is not seen this time
    pos, vel = observe(xy, seen, np.zeros((1, 2)), np.array([0.1]), new, new_ok, np.array([1.0]))
    np.testing.assert_allclose(vel, [[(3.0 + 90.0) / 2 / 0.1, 50.0 / 0.1]])  # median of two = their mean
    pos, vel = observe(xy, seen, np.zeros((1, 2)), np.array([0.1]), xy + (3.0, 0.0), new_ok, np.array([1.0]))
    np.testing.assert_allclose(vel, [[30.0, 0.0]])
    np.testing.assert_allclose(pos[0, 2], [23.0, 0.0])
    np.testing.assert_allclose(predict(pos, vel, np.array([0.5])), pos + (15.0, 0.0))


def test_oks_is_one_for_the_same_pose_and_falls_with_distance():
    sigmas = np.full(3, 0.08)
    a = np.array([[[0.0, 0.0], [0.0, 100.0], [50.0, 200.0]]])
    ok = np.ones((1, 3), bool)
    b = np.concatenate([a, a + 20.0, a + 200.0])
    sim = oks_matrix(a, ok, b, np.ones((3, 3), bool), sigmas, keypoint_box_area(a, ok))
    assert sim[0, 0] == 1.0 and 0.2 < sim[0, 1] < 0.9 and sim[0, 2] < 1e-3
    half = np.array([[True, False, False]])
    assert oks_matrix(a, ok, a, half, sigmas, np.array([1e4]))[0, 0] == 1.0, "over the keypoints both have"
    assert oks_matrix(a, ok, a, half, sigmas, np.array([1e4]), over_a=True)[0, 0] == 1 / 3, "COCO's: over a's"
