"""``openpose-py boxes`` (hands and faces in given boxes) and the --hand/--face/--feet flags of ``image``."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from .conftest import LOW, SHARED, needs_weights
from ..conftest import require_shared

SLP = SHARED / "data" / "openpose-official-json" / "slp_pose_openpose_video"


@pytest.fixture(scope="module")
def slp_picture(tmp_path_factory):
    require_shared(SLP)
    cap = cv2.VideoCapture(str(SLP / "video.mp4"))
    ok, frame = cap.read()
    cap.release()
    path = tmp_path_factory.mktemp("slp") / "slp0.png"
    cv2.imwrite(str(path), frame)
    return path


def _box(points: list[float]) -> list[float]:
    a = np.asarray(points, float).reshape(-1, 3)
    a = a[a[:, 2] > 0]
    x0, y0 = a[:, :2].min(axis=0)
    x1, y1 = a[:, :2].max(axis=0)
    return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]


def test_boxes_from_a_file_give_openpose_json(invoke, slp_picture, tmp_path):
    official = json.loads((SLP / "video_000000000000_keypoints.json").read_text())["people"][0]
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({"people": [
        {"left_hand": _box(official["hand_left_keypoints_2d"]), "face": _box(official["face_keypoints_2d"])},
        {"left_hand": [-50, -50, 10, 10]}]}))
    out = tmp_path / "out.json"
    result = invoke("boxes", slp_picture, "--boxes", boxes, "-o", out, "--render", tmp_path / "r.png")
    assert result.exit_code == 0, result.output
    people = json.loads(out.read_text())["people"]
    assert [[len(v) for v in p.values()] for p in people] == [[1, 0, 210, 63, 0, 0, 0, 0, 0]] * 2
    ours = np.asarray(people[0]["hand_left_keypoints_2d"]).reshape(21, 3)
    theirs = np.asarray(official["hand_left_keypoints_2d"]).reshape(21, 3)
    assert np.median(np.linalg.norm(ours[:, :2] - theirs[:, :2], axis=1)) < 15
    assert people[1]["hand_left_keypoints_2d"] == [0] * 63 and people[1]["face_keypoints_2d"] == [0] * 210
    assert (tmp_path / "r.png").is_file()


def test_a_bad_boxes_file_is_a_one_line_usage_error(invoke, slp_picture, tmp_path):
    bad = tmp_path / "bad.json"
    for text, message in (("{not json", "cannot read"), ('{"people": [{"face": [1, 2, 3]}]}', "[x, y, w, h]"),
                          ('{"people": [{"hand": [1, 2, 3, 4]}]}', "unknown part 'hand'")):
        bad.write_text(text)
        result = invoke("boxes", slp_picture, "--boxes", bad, "-o", tmp_path / "o.json")
        assert result.exit_code == 2 and message in result.output
        assert not (tmp_path / "o.json").exists()


@needs_weights
def test_image_with_hand_face_feet_writes_body25_and_parts(invoke, slp_picture, tmp_path):
    result = invoke("image", slp_picture, *LOW, "--hand", "--face", "--feet", "--json-dir", tmp_path / "j")
    assert result.exit_code == 0, result.output
    (entry,) = json.loads((tmp_path / "j" / "slp0_keypoints.json").read_text())["people"]
    assert [len(v) for v in entry.values()] == [1, 75, 210, 63, 63, 0, 0, 0, 0]
