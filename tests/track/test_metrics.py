"""Identity metrics on hand-made sequences whose IDF1, switches and recall are known."""

from __future__ import annotations

import numpy as np
import pytest

from openpose_py.skeleton import COCO_18
from openpose_py.track.metrics import FramePrediction, FrameTruth, identity_metrics

from .conftest import template

K = COCO_18.num_keypoints
POSES = {g: template(COCO_18, g) * 200 + (150 + 300 * g, 200) for g in range(2)}


def truth(ids, counted=None):
    return FrameTruth(np.array(ids, np.int64), np.array([POSES[g] for g in ids]).reshape(-1, K, 2),
                      np.ones((len(ids), K), bool), np.array(counted if counted else [True] * len(ids)))


def pred(pairs):
    """pairs: (pose of truth g, track id)."""
    xy = np.array([POSES[g] + 1.0 for g, _ in pairs]).reshape(-1, K, 2)
    return FramePrediction(np.array([t for _, t in pairs], np.int64), xy, np.ones((len(pairs), K), bool))


def test_perfect_tracks_score_one():
    frames = [(truth([0, 1]), pred([(0, 5), (1, 9)]))] * 10
    m = identity_metrics(frames, COCO_18.oks_sigmas)
    assert (m.idf1, m.id_switches, m.recall, m.precision) == (1.0, 0, 1.0, 1.0)


def test_an_id_swap_halfway_is_two_switches_and_halves_idf1():
    frames = [(truth([0, 1]), pred([(0, 5), (1, 9)]))] * 5 + [(truth([0, 1]), pred([(0, 9), (1, 5)]))] * 5
    m = identity_metrics(frames, COCO_18.oks_sigmas)
    assert m.id_switches == 2 and m.idf1 == pytest.approx(0.5) and m.recall == 1.0


def test_missed_people_lower_recall_and_hidden_people_are_dont_care():
    frames = [(truth([0, 1]), pred([(0, 5)]))] * 4
    frames += [(truth([0, 1], counted=[True, False]), pred([(0, 5), (1, 7)]))] * 4  # track 7 sits on a hidden person
    m = identity_metrics(frames, COCO_18.oks_sigmas)
    assert (m.truths, m.predictions, m.matches) == (12, 8, 8)
    assert m.recall == pytest.approx(8 / 12) and m.precision == 1.0 and m.idf1 == pytest.approx(16 / 20)


def test_a_small_visible_part_is_judged_at_its_own_scale_or_at_the_whole_persons():
    """Only the head shows (5 points, a box about 20 px across) and the prediction is 3 px off: at the scale of the
    visible part (COCO's) it does not correspond; at the whole person's scale (200 px tall) it does."""
    head = np.zeros((1, K), bool)
    head[0, [0, 14, 15, 16, 17]] = True
    xy = POSES[0][None].copy()
    xy[0, head[0]] = xy[0, 0] + np.array([[0, 0], [-6, -4], [6, -4], [-12, 0], [12, 0]])
    t = FrameTruth(np.array([0]), xy, head, np.array([True]), whole_area=np.array([200.0 * 100.0]))
    p = FramePrediction(np.array([4]), xy + 3.0, np.ones((1, K), bool))
    assert identity_metrics([(t, p)], COCO_18.oks_sigmas).matches == 0
    assert identity_metrics([(t, p)], COCO_18.oks_sigmas, scale="whole").matches == 1
    with pytest.raises(ValueError, match="scale must be"):
        identity_metrics([(t, p)], COCO_18.oks_sigmas, scale="box")
