from dataclasses import replace

import numpy as np
import pytest

from openpose_py.parts import BoxError, PartsConfig
from openpose_py.results import Keypoint, Person, read_openpose_json
from openpose_py.skeleton import BODY_25, COCO_18


def _official(path):
    people = read_openpose_json(path, BODY_25)
    return people, [replace(p, left_hand=None, right_hand=None, face=None) for p in people]


def test_parts_from_the_body_agree_with_openpose_and_follow_the_wrists(parts_estimator, slp_frame):
    frame, path = slp_frame
    official, bare = _official(path)
    (mine,) = parts_estimator.add_parts(frame, bare)
    for part, tolerance in (("left_hand", 15.0), ("right_hand", 20.0), ("face", 8.0)):
        ours, theirs = mine.part_array(part), official[0].part_array(part)
        assert ours.shape == theirs.shape and np.isfinite(ours).all(), part
        ok = np.isfinite(theirs[:, 0])
        assert np.median(np.linalg.norm(ours[ok, :2] - theirs[ok, :2], axis=1)) < tolerance, part
    # left and right are the person's own, from the body's wrists: the left hand's wrist point is at LWrist
    for part, wrist in (("left_hand", "LWrist"), ("right_hand", "RWrist")):
        w = mine[wrist]
        assert np.hypot(mine.part_array(part)[0, 0] - w.x, mine.part_array(part)[0, 1] - w.y) < 30
    # swap the body's wrists (and arms): the hands swap with them
    names = BODY_25.keypoints
    swap = {f"{s}{j}": f"{'R' if s == 'L' else 'L'}{j}" for s in "LR" for j in ("Wrist", "Elbow", "Shoulder")}
    kps = tuple(bare[0][swap.get(n, n)] for n in names)
    (swapped,) = parts_estimator.add_parts(frame, [replace(bare[0], keypoints=kps)])
    np.testing.assert_allclose(swapped.part_array("left_hand")[0, :2], mine.part_array("right_hand")[0, :2], atol=20)


def _body(points: dict[str, tuple[float, float]], skeleton=COCO_18) -> Person:
    return Person(tuple(Keypoint(n, *points[n], 0.9) if n in points else None for n in skeleton.keypoints), 1.0,
                  skeleton)


def test_a_person_without_wrists_or_too_small_gets_parts_with_every_point_missing(parts_estimator, slp_frame):
    frame, _ = slp_frame
    no_wrists = _body({"Nose": (600, 200), "Neck": (600, 300), "RShoulder": (500, 300), "LShoulder": (700, 300),
                       "RElbow": (450, 450), "LElbow": (750, 450)})
    tiny = _body({"Nose": (10, 10), "Neck": (10, 15), "RWrist": (5, 20), "LWrist": (15, 20)})
    out = parts_estimator.add_parts(frame, [no_wrists, tiny])
    for person in out:
        assert len(person.left_hand) == len(person.right_hand) == 21 and len(person.face) == 70
    assert all(k is None for k in out[0].left_hand + out[0].right_hand)
    assert all(k is None for k in out[1].left_hand + out[1].right_hand + out[1].face)


def test_given_boxes_shapes_and_bad_boxes(parts_estimator, slp_frame):
    frame, path = slp_frame
    official, _ = _official(path)
    hand = official[0].part_array("left_hand")
    x0, y0 = np.nanmin(hand[:, :2], axis=0)
    x1, y1 = np.nanmax(hand[:, :2], axis=0)
    boxes = np.array([[x0, y0, x1 - x0, y1 - y0], [np.nan, 0, 10, 10], [100, 100, 0, 30], [5000, 5000, 20, 20],
                      [-500, -500, 100, 100]])
    out = parts_estimator.hands_in_boxes(frame, boxes)
    assert out.shape == (5, 21, 3)
    assert np.isfinite(out[0]).all() and np.isnan(out[1:]).all()
    assert np.median(np.linalg.norm(out[0, :, :2] - hand[:, :2], axis=1)) < 15
    faces = parts_estimator.faces_in_boxes(frame, np.zeros((0, 4)))
    assert faces.shape == (0, 70, 3)
    with pytest.raises(BoxError, match=r"\(N, 4\)"):
        parts_estimator.hands_in_boxes(frame, np.zeros((2, 3)))


def test_config_is_checked():
    with pytest.raises(ValueError, match="min_person_size"):
        PartsConfig(min_person_size=float("nan"))
    with pytest.raises(ValueError, match="hand_passes"):
        PartsConfig(hand_passes=3)
    with pytest.raises(ValueError, match="not both"):
        PartsConfig.choose(PartsConfig(), hands=True)


def test_the_estimator_gives_body25_people_with_parts_in_openpose_json(default_estimator, slp_frame):
    from openpose_py import PoseEstimator
    from openpose_py.results import openpose_json

    frame, _ = slp_frame
    est = PoseEstimator(default_estimator.model, default_estimator.spec, runner=default_estimator._runner,
                        parts=PartsConfig(hands=True, face=True, feet=True))
    (person,) = est(frame)
    assert person.skeleton is BODY_25 and person["MidHip"] is None  # no hips in this frame (none in OpenPose's either)
    assert est.parts.skeleton(est.skeleton) is BODY_25
    entry = openpose_json([person])["people"][0]
    assert [len(entry[k]) for k in ("pose_keypoints_2d", "face_keypoints_2d", "hand_left_keypoints_2d",
                                    "hand_right_keypoints_2d")] == [75, 210, 63, 63]
    assert sum(k is not None for k in person.face) == 70
    plain = default_estimator(frame)[0]
    assert plain.face is None and plain.skeleton is default_estimator.skeleton
    with pytest.raises(ValueError, match="not both"):
        PoseEstimator.from_pretrained(hands=True, parts=PartsConfig())


def test_a_crowd_gets_parts_for_the_largest_people_only(slp_frame):
    from openpose_py.parts import PartsEstimator

    frame, path = slp_frame
    _, bare = _official(path)
    crowd = [bare[0].transformed(s, s, 600 * (1 - s), 300 * (1 - s)) for s in np.linspace(0.3, 1.0, 30)]
    est = PartsEstimator(PartsConfig(face=True, max_people=2))
    out = est.add_parts(frame, crowd)
    assert len(out) == 30 and all(len(p.face) == 70 for p in out)
    found = [i for i, p in enumerate(out) if p.face[0] is not None]
    assert set(found) <= {28, 29} and 29 in found  # the two largest (the last two), and the full-size one is a face
