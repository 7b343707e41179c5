"""scripts/track_misses.py's probes and the missed people they start from (scripts/track_eval.py), on a small
hand-made truth."""

from __future__ import annotations

import numpy as np

from openpose_py.skeleton import COCO_18
from openpose_py.track.metrics import FramePrediction, FrameTruth

from .conftest import load_script


def _person() -> np.ndarray:
    """(18, 2) an upright person about 200 px tall."""
    rng = np.random.default_rng(3)
    return np.column_stack([rng.uniform(100, 160, 18), rng.uniform(50, 250, 18)])


def _truth(xy: np.ndarray) -> FrameTruth:
    return FrameTruth(np.array([0]), xy[None], np.ones((1, 18), bool), np.array([True]))


def _prediction(xy: np.ndarray | None) -> FramePrediction:
    if xy is None:
        return FramePrediction(np.zeros(0, np.int64), np.zeros((0, 18, 2)), np.zeros((0, 18), bool))
    return FramePrediction(np.array([7]), xy[None], np.ones((1, 18), bool))


def test_a_person_is_missed_only_where_no_output_person_matches_them():
    misses = load_script("track_misses")
    xy = _person()
    truth = [_truth(xy), _truth(xy), _truth(xy)]
    preds = [_prediction(xy), _prediction(None), _prediction(xy + 60.0)]
    missed = list(misses.track_eval.missed_people(truth, preds))
    assert [(f, g) for f, g, _ in missed] == [(1, 0), (2, 0)]
    assert missed[0][2] > 0, "with the OKS scale of the visible part"


def test_the_peak_probe_takes_the_nearest_candidate_within_reach_and_nothing_beyond():
    misses = load_script("track_misses")
    xy = _person()
    truth, area = _truth(xy), 60.0 * 200.0
    near = tuple(np.array([[x + 1.0, y, 0.9], [x + 40.0, y, 0.9]]) for x, y in xy)
    assert misses.from_peaks(truth, 0, area, near) > 0.95
    far = tuple(np.array([[x + 80.0, y, 0.9]]) for x, y in xy)  # beyond 0.15 sqrt(area) (16 px): no point taken
    assert misses.from_peaks(truth, 0, area, far) == 0.0
    half = tuple(near[k] if k % 2 else np.zeros((0, 3)) for k in range(COCO_18.num_keypoints))
    assert 0.4 < misses.from_peaks(truth, 0, area, half) < 0.6, "a missing keypoint counts as wrong"
