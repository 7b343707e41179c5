"""PoseTracker on synthetic keypoint sequences: crossings, misses, exits and entries, every skeleton."""

from __future__ import annotations

import numpy as np
import pytest

from openpose_py import PoseTracker, SmoothingConfig, TrackerConfig
from openpose_py.skeleton import BODY_25, COCO_18, MPI_15, SKELETONS

from .conftest import painted, person

FPS = 30.0
#: the first tracker's behaviour: an id at first sight, no re-identification (these tests are about motion)
AT_ONCE = dict(min_hits=1, reid_time=0.0)


def ids_by_seed(out, seeds):
    """{pose seed: track id}, people being returned in input order."""
    return {s: p.track_id for s, p in zip(seeds, out)}


@pytest.mark.parametrize("skeleton", [COCO_18, BODY_25, MPI_15], ids=lambda s: s.name)
def test_two_people_crossing_keep_their_ids_through_an_occlusion(skeleton):
    """A walks right, B walks left along the same line, both 12 px a frame; where they overlap only the one in front
    (A) is detected for five frames, then B reappears on the far side and must get its own id back."""
    tracker = PoseTracker(skeleton, TrackerConfig(max_age=1.0, **AT_ONCE))
    history = {0: set(), 1: set()}
    for f in range(60):
        xa, xb = 100 + 12 * f, 800 - 12 * f
        seeds = [0] if abs(xa - xb) < 60 else [0, 1]
        # detections come in varying order, as a decoder may give them
        order = seeds if f % 2 else seeds[::-1]
        people = [person(skeleton, s, xa if s == 0 else xb, 300) for s in order]
        out = tracker.update(people, f / FPS)
        assert [p.keypoints for p in out] == [p.keypoints for p in people], "no smoothing: keypoints untouched"
        for s, tid in ids_by_seed(out, order).items():
            history[s].add(tid)
    assert len(history[0]) == len(history[1]) == 1 and history[0] != history[1], history


def test_a_missed_frame_keeps_the_id_and_the_prediction_bridges_the_gap():
    tracker = PoseTracker(COCO_18, TrackerConfig(max_age=0.5, **AT_ONCE))
    seen = []
    for f in range(30):
        if f in (10, 11, 12):  # three missed frames while moving 25 px a frame (a fast mover)
            assert tracker.update([], f / FPS) == []
            continue
        seen += [p.track_id for p in tracker.update([person(COCO_18, 3, 50 + 25 * f, 200, height=120)], f / FPS)]
    assert set(seen) == {0}


def test_someone_leaving_ends_the_track_and_newcomers_get_new_ids_never_reused():
    tracker = PoseTracker(COCO_18, TrackerConfig(max_age=0.4, **AT_ONCE))
    ids = []
    for f in range(12):  # person 0 alone
        ids += [p.track_id for p in tracker.update([person(COCO_18, 0, 200, 200)], f / FPS)]
    for f in range(12, 30):  # gone for 0.6 s > max_age; a different person appears far away
        out = tracker.update([person(COCO_18, 1, 700, 200)], f / FPS)
        ids += [p.track_id for p in out]
    assert tracker.active_ids == [1], "the first track ended after max_age"
    for f in range(30, 40):  # the first person comes back at the same place: a new track, not id 0 again
        out = tracker.update([person(COCO_18, 0, 200, 200), person(COCO_18, 1, 700, 200)], f / FPS)
        assert [p.track_id for p in out] == [2, 1]
    assert ids == [0] * 12 + [1] * 18
    tracker.reset()
    assert tracker.update([person(COCO_18, 0, 200, 200)], 0.0)[0].track_id == 0, "reset starts a new stream"


def test_max_age_is_in_seconds_not_frames():
    tracker = PoseTracker(COCO_18, TrackerConfig(max_age=0.5, **AT_ONCE))
    assert tracker.update([person(COCO_18, 0, 200, 200)], 10.0)[0].track_id == 0
    assert tracker.update([person(COCO_18, 0, 200, 200)], 10.45)[0].track_id == 0, "0.45 s later: same track"
    assert tracker.update([person(COCO_18, 0, 200, 200)], 11.0)[0].track_id == 1, "0.55 s later: ended"


def test_smoothing_reduces_jitter_restarts_a_returning_keypoint_and_keeps_confidences():
    rng = np.random.default_rng(0)
    tracker = PoseTracker(COCO_18, TrackerConfig(**AT_ONCE), smoothing=SmoothingConfig(min_cutoff=1.0, beta=0.0))
    raw, out = [], []
    for f in range(60):
        missing = (4,) if 30 <= f < 35 else ()  # the right wrist vanishes for five frames
        p = person(COCO_18, 0, 300, 300, missing=missing, jitter=3.0, rng=rng)
        q = tracker.update([p], f / FPS)[0]
        raw.append(p.as_array())
        out.append(q.as_array())
        assert q.track_id == 0
        assert [k is None for k in q.keypoints] == [k is None for k in p.keypoints]
        np.testing.assert_array_equal(q.as_array()[:, 2], p.as_array()[:, 2])
    raw, out = np.array(raw), np.array(out)
    np.testing.assert_array_equal(out[35, 4], raw[35, 4])  # the returning wrist restarts at its measurement
    assert not np.allclose(out[35, 3], raw[35, 3]), "the elbow, always present, stays filtered"
    accel = lambda a: np.abs(np.diff(a[10:30, :, :2], n=2, axis=0)).mean()  # noqa: E731
    assert accel(out) < 0.3 * accel(raw)


def test_bad_input_is_refused_with_clear_errors():
    tracker = PoseTracker(COCO_18)
    tracker.update([], 1.0)
    with pytest.raises(ValueError, match="timestamps must increase"):
        tracker.update([], 1.0)
    with pytest.raises(ValueError, match="tracker is for COCO_18"):
        tracker.update([person(BODY_25, 0, 0, 0)], 2.0)
    with pytest.raises(ValueError, match="max_age"):
        TrackerConfig(max_age=-1)
    with pytest.raises(ValueError, match="beta"):
        SmoothingConfig(beta=-0.1)
    with pytest.raises(TypeError, match=r"pass \[person\] for one"):
        tracker.update(person(COCO_18, 0, 0, 0), 3.0)
    with pytest.raises(TypeError, match="got a ndarray in it"):
        tracker.update([np.zeros((18, 3))], 3.0)  # a refused call changes nothing, its time included


def test_a_point_that_is_not_finite_is_missing_and_cannot_poison_the_tracks():
    """Failure: a hand-made person with x = NaN (score 0.9) entered the tracks, and every later update of any frame
    failed in the assignment ('matrix contains invalid numeric entries') until reset()."""
    tracker = PoseTracker(COCO_18, TrackerConfig(**AT_ONCE))
    bad = person(COCO_18, 0, 0, 0)
    nose = bad.keypoints[0]
    bad = type(bad)((type(nose)(nose.name, float("nan"), nose.y, nose.score),) + bad.keypoints[1:], bad.score, COCO_18)
    first = tracker.update([bad], 0.0)
    for i in range(1, 4):
        assert [p.track_id for p in tracker.update([person(COCO_18, 0, i, 0)], i / FPS)] == [first[0].track_id]


def test_every_skeleton_has_positive_oks_sigmas_and_coco_keeps_cocos_values():
    for skeleton in SKELETONS.values():
        assert skeleton.oks_sigmas.shape == (skeleton.num_keypoints,) and (skeleton.oks_sigmas > 0).all()
    coco = np.array([.026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062, .107, .107, .087, .087,
                     .089, .089])
    np.testing.assert_allclose(COCO_18.oks_sigmas[list(COCO_18.coco17)], coco)


def test_after_a_missed_frame_smoothing_restarts_from_the_new_detection():
    tracker = PoseTracker(COCO_18, TrackerConfig(**AT_ONCE), smoothing=SmoothingConfig(min_cutoff=0.5, beta=0.0))
    for f in range(10):
        tracker.update([person(COCO_18, 0, 200, 200)], f / FPS)
    tracker.update([], 10 / FPS)
    moved = person(COCO_18, 0, 230, 200)
    assert tracker.update([moved], 11 / FPS)[0].keypoints == moved.keypoints
    again = person(COCO_18, 0, 240, 200)
    assert tracker.update([again], 12 / FPS)[0].keypoints != again.keypoints, "filtering again from then on"


RED, BLUE, GREEN, YELLOW = (40, 40, 200), (200, 60, 30), (50, 180, 50), (40, 200, 220)
SIZE = (900, 500)


def test_a_person_hidden_longer_than_max_age_gets_its_id_back_by_appearance():
    """X (red and blue) walks right behind Y (green, standing in front), is hidden for 1.5 s, longer than max_age, and
    comes back out on the side it went in: the pose-only tracker gives it a new id, appearance gives its own back."""
    def run(config, with_image):
        tracker = PoseTracker(COCO_18, config)
        ids = {"x": set(), "y": set()}
        for f in range(120):
            t = f / FPS
            hidden = 30 <= f < 75
            x = person(COCO_18, 0, 200 + 5 * min(f, 30) - 5 * max(f - 75, 0), 240, height=180)
            y = person(COCO_18, 1, 450, 260, height=220)
            shown = [(y, GREEN, GREEN)] if hidden else [(x, RED, BLUE), (y, GREEN, GREEN)]
            out = tracker.update([p for p, *_ in shown], t, image=painted(SIZE, shown[::-1]) if with_image else None)
            for (p, *_), q in zip(shown, out):
                ids["x" if p is x else "y"].add(q.track_id)
        return {k: v - {-1} for k, v in ids.items()}

    pose_only = run(TrackerConfig.pose_only(), False)
    assert len(pose_only["x"]) == 2, pose_only
    ids = run(TrackerConfig(max_age=1.0, reid_time=3.0), True)
    assert len(ids["x"]) == len(ids["y"]) == 1 and ids["x"] != ids["y"], ids


def test_a_returning_person_whose_first_frames_look_a_little_off_waits_and_gets_its_id_back():
    """As above, but X comes back out in shadow for its first 4 frames (every colour 20 darker: alike, less than
    ``reid_similarity``): its new track waits for more frames rather than take a new id at once, and gets X's back."""
    dark = lambda c: tuple(v - 20 for v in c)  # noqa: E731
    tracker = PoseTracker(COCO_18, TrackerConfig(max_age=1.0, reid_time=3.0))
    ids: dict[str, set] = {"x": set(), "y": set()}
    for f in range(120):
        x = person(COCO_18, 0, 200 + 5 * min(f, 30) - 5 * max(f - 75, 0), 240, height=180)
        y = person(COCO_18, 1, 450, 260, height=220)
        shown = [(y, GREEN, GREEN)] if 30 <= f < 75 else \
            [(x, dark(RED), dark(BLUE)) if f < 79 and f >= 75 else (x, RED, BLUE), (y, GREEN, GREEN)]
        out = tracker.update([p for p, *_ in shown], f / FPS, image=painted(SIZE, shown[::-1]))
        for (p, *_), q in zip(shown, out):
            ids["x" if p is x else "y"].add(q.track_id)
    ids = {k: v - {-1} for k, v in ids.items()}
    assert len(ids["x"]) == len(ids["y"]) == 1 and ids["x"] != ids["y"], ids


def test_a_stranger_entering_where_someone_left_gets_a_new_id():
    """X (red and blue) walks off at the right; 0.3 s later Z (yellow) appears where X was last seen."""
    tracker = PoseTracker(COCO_18, TrackerConfig(max_age=1.0, reid_time=3.0))
    seen = []
    for f in range(60):
        if 30 <= f < 39:
            tracker.update([], f / FPS, image=painted(SIZE, []))
            continue
        p, colours = (person(COCO_18, 0, 700 + 4 * f, 250), (RED, BLUE)) if f < 30 else \
            (person(COCO_18, 2, 820 - 4 * (f - 39), 250), (YELLOW, YELLOW))
        seen.append(tracker.update([p], f / FPS, image=painted(SIZE, [(p, *colours)]))[0].track_id)
    assert seen[1:30] == [0] * 29 and set(seen[31:]) == {1}, seen


def test_a_one_frame_false_detection_gets_no_id_and_a_real_person_is_relabelled_from_its_first_frame():
    tracker = PoseTracker(COCO_18)  # default: an id after 2 frames
    real = [person(COCO_18, 0, 200 + 3 * f, 250) for f in range(5)]
    ghost = person(COCO_18, 1, 700, 250)
    out = [tracker.update([real[0]], 0.0), tracker.update([real[1], ghost], 1 / FPS)]
    assert [p.track_id for p in out[0]] == [-1] and [p.track_id for p in out[1]] == [0, -1]
    assert tracker.relabelled == ((1, 0, 0),), "frame 1's person 0 is track 0"
    for f in range(2, 5):
        assert [p.track_id for p in tracker.update([real[f]], f / FPS)] == [0]
    assert tracker.active_ids == [0] and tracker.undecided_since is None


@pytest.mark.parametrize("field, value", [
    ("max_age", 0.0), ("max_age", float("nan")), ("min_similarity", float("nan")), ("velocity_weight", float("inf")),
    ("appearance_weight", 1.5), ("reid_time", float("nan")), ("reid_time", -1.0), ("reid_similarity", 0.0),
    ("min_hits", 0), ("min_hits", 1.5), ("min_hits", True), ("min_tolerance_px", float("nan")), ("motion", "yes"),
    ("max_age", "1"), ("drop_duplicates", 1),
])
def test_config_fields_are_checked(field, value):
    with pytest.raises(ValueError, match=f"TrackerConfig.{field} must be"):
        TrackerConfig(**{field: value})


def test_frames_a_millisecond_apart_give_no_wild_velocity():
    """Two detections 1 ms apart, 3 px of noise between them, then the same still person 0.2 s later: before, the
    noise read as 3000 px/s flung the prediction 600 px away and the person got a new id."""
    tracker = PoseTracker(COCO_18, TrackerConfig(**AT_ONCE))
    ids = [tracker.update([person(COCO_18, 0, x, 300)], t)[0].track_id for x, t in ((300, 0.0), (303, 0.001),
                                                                                  (300, 0.2), (300, 0.4))]
    assert ids == [0, 0, 0, 0]


def test_a_small_far_person_keeps_its_id_through_detector_noise():
    """A person 30 px tall, 3 px of keypoint noise and 60% of its keypoints missing in each frame (as the network
    gives far people): plain OKS loses it, the pixel tolerance keeps it one track."""
    def ids(tolerance):
        rng = np.random.default_rng(0)
        tracker = PoseTracker(COCO_18, TrackerConfig(min_tolerance_px=tolerance, **AT_ONCE))
        out = set()
        for f in range(60):
            missing = tuple(np.flatnonzero(rng.random(COCO_18.num_keypoints) < 0.6))
            p = person(COCO_18, 0, 300 + f, 300, height=30, jitter=3.0, rng=rng, missing=missing)
            out.add(tracker.update([p], f / FPS)[0].track_id)
        return out
    assert len(ids(0.0)) > 1, "plain OKS loses it"
    assert ids(TrackerConfig().min_tolerance_px) == {0}


def test_a_pair_that_may_not_match_cannot_push_an_allowed_pair_out_of_the_assignment():
    """Failure: X (green top, blue legs) walked out at the right and is still a live track; a newcomer Z (yellow top,
    green legs), unlike X, enters there while Y (all green) stands still. The Hungarian method was given the vetoed
    pair (X, Z) at -1 and the far pairs (X, Y), (Y, Z) their small appearance scores, so it preferred those two (both
    then refused) to (Y, Y) and (X, Z): Y was returned without its id for that frame. Forbidden pairs now score 0."""
    tracker = PoseTracker(COCO_18, TrackerConfig(max_age=1.0, min_appearance=0.05))
    y_ids = []
    for f in range(40):
        y = person(COCO_18, 1, 250, 260, height=220)
        shown = [(y, GREEN, GREEN)]
        if f < 20:
            shown.append((person(COCO_18, 0, 600 + 8 * f, 250, height=200), GREEN, BLUE))
        elif f >= 25:
            shown.append((person(COCO_18, 2, 760 - 4 * (f - 25), 250, height=200), YELLOW, GREEN))
        out = tracker.update([p for p, *_ in shown], f / FPS, image=painted(SIZE, shown))
        y_ids.append(out[0].track_id)
    assert y_ids[0] == -1 and set(y_ids[1:]) == {0}, y_ids  # -1: tentative in its first frame (min_hits 2)


def test_a_piece_of_a_person_found_twice_gets_no_id_and_someone_half_hidden_behind_does():
    """The network sometimes returns a person's arm a second time as another 'person' (left and right swapped, every
    point on the first one's): it must take no id and start no track. Someone behind, of whom only the head shows (5
    points, none on the other's), is a person."""
    from openpose_py.results import people_from_array

    def piece_of(p):
        rows = np.full((COCO_18.num_keypoints, 3), np.nan)
        rows[[2, 3, 4]] = p.as_array()[[5, 6, 7]] + (1.0, -1.0, 0.0)  # right arm on the left arm
        return people_from_array(rows[None], COCO_18)[0]

    tracker = PoseTracker(COCO_18)
    seen = []
    for f in range(8):
        p = person(COCO_18, 0, 300 + 3 * f, 250)
        head = person(COCO_18, 1, 450 - 2 * f, 240, height=180, missing=tuple(range(1, 14)))
        seen.append([q.track_id for q in tracker.update([p, piece_of(p), head], f / FPS)])
    assert seen[0] == [-1, -1, -1] and seen[1:] == [[0, -1, 1]] * 7, seen
    assert sorted(tracker.active_ids) == [0, 1]
    pose_only = PoseTracker(COCO_18, TrackerConfig.pose_only())  # the first tracker had no such rule
    assert [q.track_id for q in pose_only.update([p, piece_of(p)], 0.0)] == [0, 1]
