"""Short gaps in a file's tracks filled in (GapFiller, through the Relabeller that files go through)."""

from __future__ import annotations

import numpy as np
import pytest

from openpose_py.skeleton import COCO_18
from openpose_py.track import PoseTracker, TrackerConfig
from openpose_py.track.gaps import FILLED_SCORE, GapFiller, interpolated
from openpose_py.track.stream import Relabeller

from .conftest import person

FPS = 30.0


def run(config: TrackerConfig, missed: set[int], frames: int = 12) -> list[list]:
    """A person walking right 6 px a frame (and a second one standing still), the first missed in ``missed``
    frames, through a tracker and a Relabeller as a file's frames are."""
    tracker = PoseTracker(COCO_18, config)
    relabeller = Relabeller(tracker)
    out = []
    for f in range(frames):
        people = [person(COCO_18, 1, 500, 200)] + ([] if f in missed else [person(COCO_18, 0, 100 + 6 * f, 200)])
        out += [done for done, _ in relabeller.push(tracker.update(people, f / FPS))]
    return out + [done for done, _ in relabeller.flush()]


def test_a_person_missed_for_two_frames_is_put_back_where_it_was_in_between_with_half_scores():
    out = run(TrackerConfig(), missed={5, 6})
    assert [len(people) for people in out] == [2] * 12, "every frame has both people again"
    for f in (5, 6):
        filled = out[f][-1]  # after the detected person
        assert filled.track_id == out[4][1].track_id == out[7][1].track_id
        expected = person(COCO_18, 0, 100 + 6 * f, 200).as_array()
        np.testing.assert_allclose(filled.as_array()[:, :2], expected[:, :2], atol=1e-6)
        np.testing.assert_allclose(filled.as_array()[:, 2], FILLED_SCORE * expected[:, 2], atol=1e-6)
        assert filled.score == pytest.approx(FILLED_SCORE * out[4][1].score)


def test_longer_gaps_off_and_pose_only_fill_nothing():
    assert [len(people) for people in run(TrackerConfig(), missed={4, 5, 6, 7, 8})][4:9] == [1] * 5, "0.2 s > 0.15 s"
    assert [len(people) for people in run(TrackerConfig(max_gap=0.0), missed={5})][5] == 1
    assert [len(people) for people in run(TrackerConfig.pose_only(), missed={5})][5] == 1


def test_a_keypoint_seen_at_one_end_only_moves_with_the_person_and_one_with_none_in_common_is_not_filled():
    a = person(COCO_18, 0, 100, 200, missing=(4,)).with_track_id(3)
    b = person(COCO_18, 0, 140, 220, missing=(7,)).with_track_id(3)
    half, = interpolated(a, b, [0.5])
    full = person(COCO_18, 0, 120, 210).as_array()
    np.testing.assert_allclose(half.as_array()[:, :2], full[:, :2], atol=1e-6)
    assert half.track_id == 3
    nothing_shared = person(COCO_18, 0, 140, 220, missing=tuple(range(1, 18)))
    assert interpolated(person(COCO_18, 0, 100, 200, missing=(0,)), nothing_shared, [0.5]) == []


def test_the_filler_gives_frames_back_in_order_once_no_later_frame_can_fill_them():
    filler = GapFiller(0.1)
    p = person(COCO_18, 0, 100, 200).with_track_id(0)
    assert filler.push(0.0, [p], "a") == []
    assert filler.push(0.05, [], "b") == []
    assert filler.push(0.1, [p], "c") == [], "a could still be needed: 0.1 s is not over max_gap"
    assert [item for _, item in filler.push(0.15, [], "d")] == ["a"]
    assert [(len(people), item) for people, item in filler.flush()] == [(1, "b"), (1, "c"), (0, "d")], "b filled"


@pytest.mark.parametrize("value", [float("nan"), -0.1, 11.0])
def test_max_gap_is_checked(value):
    with pytest.raises(ValueError, match="TrackerConfig.max_gap must be"):
        TrackerConfig(max_gap=value)


def test_the_cli_flag_reaches_the_tracker():
    from openpose_py.cli.tracking import TrackingOptions, build_tracker

    assert build_tracker(TrackingOptions(track_max_gap=0.0), COCO_18).config.max_gap == 0.0
    assert build_tracker(TrackingOptions(), COCO_18).config.max_gap == TrackerConfig().max_gap
