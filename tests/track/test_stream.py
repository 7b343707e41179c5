"""The streaming API on the real network: PoseEstimator.track over a video's frames."""

from __future__ import annotations

import pytest

from openpose_py import PoseEstimator, SmoothingConfig
from openpose_py.track import track_frames
from openpose_py.video import FrameRange, VideoSource

from ..conftest import SHARED

SELFIE = SHARED / "data" / "videos" / "selfie_upper_body.mp4"


@pytest.fixture(scope="module")
def estimator_160():
    return PoseEstimator.from_pretrained("lightweight", height=160)


@pytest.mark.shared("data/videos/selfie_upper_body.mp4")
def test_track_yields_the_estimators_people_with_one_stable_id(estimator_160):
    with VideoSource(SELFIE, FrameRange(0, 6, 2)) as source:
        frames = list(source)
    assert [f.timestamp for f in frames] == pytest.approx([i / 29.92 for i in (0, 2, 4)], abs=1e-3)
    tracked = list(track_frames(estimator_160, frames))
    plain = estimator_160(frames[-1].image)
    assert [p.keypoints for p in tracked[-1]] == [p.keypoints for p in plain], "no smoothing: detections untouched"
    assert {p.track_id for people in tracked for p in people} == {0}
    smoothed = list(track_frames(estimator_160, [f.image for f in frames], fps=15.0, smoothing=SmoothingConfig()))
    assert [len(p) for p in smoothed] == [len(p) for p in tracked]
    assert smoothed[-1][0].keypoints != tracked[-1][0].keypoints, "later frames are filtered"
    assert [k.score for k in smoothed[-1][0].keypoints if k] == [k.score for k in tracked[-1][0].keypoints if k]


def test_one_array_or_an_unusable_rate_is_refused(estimator_160):
    """Failure: one image given as ``frames`` ran each of its rows as an image (160 empty frames); fps NaN or
    infinite passed the check and the tracker then blamed the timestamps."""
    import numpy as np

    with pytest.raises(TypeError, match=r"not one array: pass \[image\] for one"):
        next(track_frames(estimator_160, np.zeros((64, 48, 3), np.uint8)))
    for fps in (float("nan"), float("inf"), 0, "30"):
        with pytest.raises(ValueError, match="fps must be a positive finite number"):
            next(track_frames(estimator_160, [], fps=fps))


def test_the_relabeller_labels_a_new_person_from_its_first_frame_and_keeps_a_false_detection_unlabelled():
    from openpose_py.skeleton import COCO_18
    from openpose_py.track import PoseTracker
    from openpose_py.track.stream import Relabeller

    from .conftest import person

    tracker = PoseTracker(COCO_18)
    relabeller = Relabeller(tracker)
    out = []
    for f in range(6):
        people = [person(COCO_18, 0, 100 + 5 * f, 200)] + ([person(COCO_18, 1, 600, 200)] if f == 2 else [])
        out += [done for done, _ in relabeller.push(tracker.update(people, f / 30.0))]
    out += [done for done, _ in relabeller.flush()]
    assert [[p.track_id for p in people] for people in out] == [[0], [0], [0, -1], [0], [0], [0]]


def test_the_tracking_stage_relabels_a_files_frames_but_not_a_live_sources() -> None:
    """The pipeline is given the stage and opens it with the source's info; the stage decides, the pipeline does not."""
    from openpose_py.skeleton import COCO_18
    from openpose_py.track import PoseTracker
    from openpose_py.track.stream import Relabeller, TrackingStage
    from openpose_py.video import StreamInfo

    for live, relabels in ((False, True), (True, False)):
        stage = TrackingStage(PoseTracker(COCO_18))
        stage.open(StreamInfo("clip", 30.0, (64, 48), None, live=live))
        assert isinstance(stage.relabeller, Relabeller) is relabels
    given = TrackingStage(PoseTracker(COCO_18), relabel=False)
    given.open(StreamInfo("clip", 30.0, (64, 48), None))
    assert given.relabeller is None and given.flush() == []
