import json

import numpy as np
import pytest

from openpose_py.results import (Keypoint, Person, coco_results, format_openpose_json, openpose_json, people_from_array,
                                 read_openpose_json)
from openpose_py.skeleton import BODY_25, COCO_18

OFFICIAL = "data/openpose-official-json"
PERSON_KEYS = ["person_id", "pose_keypoints_2d", "face_keypoints_2d", "hand_left_keypoints_2d",
               "hand_right_keypoints_2d", "pose_keypoints_3d", "face_keypoints_3d", "hand_left_keypoints_3d",
               "hand_right_keypoints_3d"]


def _person(skeleton=COCO_18, missing=("LEar",)):
    kps = tuple(None if n in missing else Keypoint(n, 10.0 + i, 20.0 + i, 0.5) for i, n in enumerate(skeleton.keypoints))
    return Person(kps, 3.0, skeleton)


def test_person_accessors_are_frozen_and_typed():
    p = _person()
    assert p["Nose"] == Keypoint("Nose", 10.0, 20.0, 0.5) and p["LEar"] is None
    assert p.num_parts == 17 and len(p) == 18
    arr = p.as_array()
    assert arr.shape == (18, 3) and np.isnan(arr[COCO_18.index("LEar")]).all()
    with pytest.raises(Exception):
        p.score = 1.0  # frozen
    coco = p.to_coco17()
    assert coco.shape == (17, 3) and coco[3].tolist() == [0, 0, 0]  # left_ear missing
    assert coco[0].tolist() == [10.0, 20.0, 2.0]
    moved = p.transformed(2.0, 3.0, 1.0, -1.0)
    assert moved["Nose"].x == 21.0 and moved["Nose"].y == 59.0
    assert p.bbox() == (10.0, 20.0, 26.0, 36.0)
    with pytest.raises(ValueError, match="needs 18"):
        Person((None,) * 3, 0.0, COCO_18)


def test_openpose_json_layout():
    doc = openpose_json([_person(), _person().with_track_id(4)])
    assert list(doc) == ["version", "people"] and doc["version"] == 1.3
    first = doc["people"][0]
    assert list(first) == PERSON_KEYS
    assert first["person_id"] == [-1] and doc["people"][1]["person_id"] == [4]
    flat = first["pose_keypoints_2d"]
    assert len(flat) == 54 and flat[3 * COCO_18.index("LEar"):][:3] == [0.0, 0.0, 0.0]
    assert all(first[k] == [] for k in PERSON_KEYS[2:])
    with_cands = openpose_json([], part_candidates=[np.array([[1.0, 2.0, 0.3]])] + [np.zeros((0, 3))] * 17)
    assert list(with_cands) == ["version", "people", "part_candidates"]
    assert with_cands["part_candidates"][0]["0"] == [1.0, 2.0, 0.3] and with_cands["part_candidates"][0]["17"] == []
    normalised = openpose_json([_person()], scale=(0.5, 0.25), offset=-1.0)["people"][0]["pose_keypoints_2d"]
    assert normalised[:3] == [4.0, 4.0, 0.5]
    json.dumps(doc)


def test_body25_document_matches_the_official_structure(shared_dir, tmp_path):
    official = json.loads((shared_dir / OFFICIAL / "coco_val2014_192" /
                           "COCO_val2014_000000000192_keypoints.json").read_text())
    ours = openpose_json([_person(BODY_25, missing=("LHeel",))])
    assert list(ours) == list(official)
    assert list(ours["people"][0]) == list(official["people"][0])
    assert len(ours["people"][0]["pose_keypoints_2d"]) == len(official["people"][0]["pose_keypoints_2d"]) == 75
    for key in PERSON_KEYS:
        assert type(ours["people"][0][key]) is type(official["people"][0][key])


def test_reader_loads_official_files(shared_dir):
    files = sorted((shared_dir / OFFICIAL).rglob("*_keypoints.json"))
    assert len(files) >= 10
    for f in files:
        people = read_openpose_json(f, BODY_25)
        for p in people:
            assert p.skeleton is BODY_25 and p.num_parts >= 1
    people = read_openpose_json(shared_dir / OFFICIAL / "coco_val2014_192" / "COCO_val2014_000000000192_keypoints.json",
                                BODY_25)
    assert len(people) == 1
    assert people[0]["Nose"].x == pytest.approx(328.099)
    with pytest.raises(ValueError, match="needs 54"):
        read_openpose_json(files[0], COCO_18)


def test_reader_round_trip_and_errors(tmp_path):
    path = tmp_path / "x_keypoints.json"
    path.write_text(json.dumps(openpose_json([_person()])))
    (back,) = read_openpose_json(path, COCO_18)
    assert back["LEar"] is None and back["Nose"] == Keypoint("Nose", 10.0, 20.0, 0.5)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="cannot read"):
        read_openpose_json(bad, COCO_18)
    bad.write_text("[]")
    with pytest.raises(ValueError, match="not an OpenPose"):
        read_openpose_json(bad, COCO_18)


def test_coco_results_and_people_from_array():
    arr = np.zeros((2, 18, 3))
    arr[0, :, :] = (5.0, 6.0, 0.9)
    arr[1, 0] = (1.0, 1.0, np.nan)
    people = people_from_array(arr, COCO_18, scores=[2.0, 1.0])
    assert people[0].num_parts == 18 and people[1].num_parts == 0
    (entry,) = coco_results(people[:1], image_id=7)
    assert entry["image_id"] == 7 and entry["category_id"] == 1 and entry["score"] == 2.0
    assert len(entry["keypoints"]) == 51 and entry["keypoints"][2] == 1.0


def test_api_misuse_is_a_clear_error_and_nan_never_reaches_an_output():
    """Failures of an API sweep: indexing by an unknown name or iterating a Person said 'tuple.index(x): x not in
    tuple'; a point with NaN x came through people_from_array and into COCO results as NaN (invalid JSON); a
    scores list of the wrong length ended in an IndexError."""
    p = _person()
    with pytest.raises(ValueError, match="^unknown COCO_18 keypoint 'nose'; known: Nose, Neck, RShoulder"):
        p["nose"]
    for use in (list, lambda person: "Nose" in person, lambda person: openpose_json(person)):
        with pytest.raises(TypeError, match=r"a Person is not iterable: .*pass \[person\]"):
            use(p)
    arr = np.full((1, 18, 3), 0.9)
    arr[0, 0, 0] = np.nan
    arr[0, 1, 1] = np.inf
    (person,) = people_from_array(arr, COCO_18)
    assert person["Nose"] is None and person["Neck"] is None and person.num_parts == 16
    raw = Person((Keypoint("Nose", float("nan"), 1.0, 0.9),) + (None,) * 17, 1.0, COCO_18)
    (entry,) = coco_results([raw], 1)
    assert entry["keypoints"][:3] == [0.0, 0.0, 0.0] and all(np.isfinite(entry["keypoints"]))
    with pytest.raises(ValueError, match="one score per person"):
        people_from_array(np.ones((2, 18, 3)), COCO_18, scores=[1.0])


def test_json_text_is_byte_identical_to_openpose_and_people_round_trip(shared_dir):
    files = sorted((shared_dir / OFFICIAL).rglob("*_keypoints.json"))
    assert len(files) == 10
    for path in files:
        text = path.read_text()
        # the writer's formatting reproduces OpenPose's bytes exactly for OpenPose's own documents
        assert format_openpose_json(json.loads(text)) == text
        people = read_openpose_json(path, BODY_25)
        official = json.loads(text)
        ours = json.loads(format_openpose_json(openpose_json(people)))
        assert list(ours) == list(official) == ["version", "people"]
        assert ours["version"] == official["version"] == 1.3
        for mine, theirs in zip(ours["people"], official["people"], strict=True):
            assert list(mine) == list(theirs), "per-person keys in OpenPose's order"
            assert all(isinstance(v, list) for v in mine.values())
            assert mine["person_id"] == theirs["person_id"] == [-1]
            assert len(mine["pose_keypoints_2d"]) == 75
            assert mine["pose_keypoints_2d"] == theirs["pose_keypoints_2d"]
            for key in PERSON_KEYS[2:5]:  # faces and hands (the slp frames have them) come back as they were
                assert len(mine[key]) in (0, 63, 210)
                assert np.allclose(mine[key], theirs[key])


def _hand_array(missing=(3,)):
    a = np.stack([np.arange(21) * 2.0 + 1, np.arange(21) * 3.0 + 1, np.full(21, 0.5)], 1)
    a[list(missing)] = np.nan
    return a


def test_parts_json_lengths_zeros_and_order(tmp_path):
    body = _person(BODY_25)
    with_parts = body.with_parts(left_hand=_hand_array(), right_hand=np.full((21, 3), np.nan),
                                 face=np.tile([5.0, 6.0, 0.9], (70, 1)))
    doc = openpose_json([with_parts, body])
    on, off = doc["people"]
    assert list(on) == list(off) == PERSON_KEYS
    assert [len(on[k]) for k in PERSON_KEYS] == [1, 75, 210, 63, 63, 0, 0, 0, 0]
    assert [len(off[k]) for k in PERSON_KEYS] == [1, 75, 0, 0, 0, 0, 0, 0, 0]
    assert on["hand_left_keypoints_2d"][9:12] == [0.0, 0.0, 0.0] and on["hand_left_keypoints_2d"][:3] == [1.0, 1.0, 0.5]
    assert on["hand_right_keypoints_2d"] == [0.0] * 63  # asked for, not found: zeros, as OpenPose writes them
    path = tmp_path / "p_keypoints.json"
    path.write_text(format_openpose_json(doc))
    back_on, back_off = read_openpose_json(path, BODY_25)
    assert back_off.face is back_off.left_hand is back_off.right_hand is None
    assert len(back_on.right_hand) == 21 and all(k is None for k in back_on.right_hand)
    assert back_on.left_hand[3] is None and back_on.left_hand[4] == Keypoint("Thumb4", 9.0, 13.0, 0.5)
    assert back_on.face[69].name == "LPupil"
    np.testing.assert_allclose(back_on.part_array("left_hand"), with_parts.part_array("left_hand"))
    assert body.part_array("face") is None
    moved = with_parts.transformed(2.0, 1.0, 1.0)
    assert moved.left_hand[0].x == 3.0 and moved.face[0].x == 11.0


def test_parts_shapes_are_checked():
    with pytest.raises(ValueError, match="left_hand needs 21"):
        Person(_person().keypoints, 1.0, COCO_18, left_hand=(None,) * 20)
    with pytest.raises(ValueError, match="unknown part"):
        _person().with_parts(hand=np.zeros((21, 3)))
    with pytest.raises(ValueError, match="expected \\(70, 3\\)"):
        _person().with_parts(face=np.zeros((68, 3)))
