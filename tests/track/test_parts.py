"""Hands and faces are smoothed with their person: jitter falls, a returning part restarts, absent parts stay so."""

from __future__ import annotations

import numpy as np

from openpose_py import PoseTracker, SmoothingConfig, TrackerConfig
from openpose_py.skeleton import COCO_18
from openpose_py.track.parts import PART_POINTS, parts_array, with_parts_at

from .conftest import person

FPS = 30.0


def _hand(rng: np.random.Generator, jitter: float) -> np.ndarray:
    rows = np.column_stack([300 + np.arange(21.0) * 2, 150 + np.arange(21.0), np.full(21, 0.8)])
    rows[:, :2] += rng.normal(0.0, jitter, (21, 2))
    rows[20] = np.nan  # one fingertip never found
    return rows


def _face(rng: np.random.Generator, jitter: float) -> np.ndarray:
    rows = np.column_stack([200 + np.arange(70.0) % 10, 100 + np.arange(70.0) // 10, np.full(70, 0.9)])
    rows[:, :2] += rng.normal(0.0, jitter, (70, 2))
    return rows


def test_hands_and_face_are_smoothed_with_their_person():
    rng = np.random.default_rng(0)
    tracker = PoseTracker(COCO_18, TrackerConfig(min_hits=1, reid_time=0.0),
                          smoothing=SmoothingConfig(min_cutoff=1.0, beta=0.0))
    raw, out = [], []
    for f in range(40):
        hand = _hand(rng, 2.0) if not 20 <= f < 23 else None  # the right hand is unseen for three frames
        found = person(COCO_18, 0, 300, 250).with_parts(left_hand=_hand(rng, 2.0), right_hand=hand,
                                                        face=_face(rng, 2.0))
        (tracked,) = tracker.update([found], f / FPS)
        raw.append(found)
        out.append(tracked)
        assert tracked.face is not None and len(tracked.face) == 70
        assert (tracked.right_hand is None) == (hand is None)  # a part not asked for (None) stays None
        assert tracked.left_hand[20] is None  # a point never found is not invented
        assert [k.score for k in tracked.left_hand[:20]] == [k.score for k in found.left_hand[:20]]
    assert np.allclose(out[0].part_array("face"), raw[0].part_array("face"))  # the first frame passes unfiltered

    def jitter(people, part):
        xy = np.stack([p.part_array(part)[:20, :2] for p in people[5:20]])
        return float(np.abs(np.diff(xy, axis=0)).mean())

    for part in ("left_hand", "face"):
        assert jitter(out, part) < 0.5 * jitter(raw, part), part
    # the right hand, back after three frames away, restarts from where it is found rather than slide from before
    assert np.allclose(out[23].part_array("right_hand"), raw[23].part_array("right_hand"), equal_nan=True)


def test_without_smoothing_or_parts_people_pass_as_they_were():
    tracker = PoseTracker(COCO_18, TrackerConfig(min_hits=1, reid_time=0.0))
    found = person(COCO_18, 0, 300, 250).with_parts(face=_face(np.random.default_rng(1), 1.0))
    (tracked,) = tracker.update([found], 0.0)
    assert tracked.face == found.face and tracked.left_hand is None
    smoothing = PoseTracker(COCO_18, TrackerConfig(min_hits=1, reid_time=0.0), smoothing=SmoothingConfig())
    for f in range(3):  # body only: the parts' filters are never consulted, parts stay None
        (tracked,) = smoothing.update([person(COCO_18, 0, 300 + f, 250)], f / FPS)
        assert (tracked.left_hand, tracked.right_hand, tracked.face) == (None, None, None)


def test_the_block_of_parts_round_trips():
    found = person(COCO_18, 0, 300, 250).with_parts(left_hand=_hand(np.random.default_rng(2), 0.0))
    block = parts_array([found])
    assert block.shape == (1, PART_POINTS, 3) == (1, 112, 3)
    assert np.isnan(block[0, 21:]).all()  # right hand and face not asked for
    moved = with_parts_at(found, block[0, :, :2] + 5.0)
    assert np.allclose(moved.part_array("left_hand")[:20, :2], found.part_array("left_hand")[:20, :2] + 5.0)
    assert moved.right_hand is None and moved.face is None and moved.left_hand[20] is None
