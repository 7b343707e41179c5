"""Pose files: official OpenPose JSON, ComfyUI POSE_KEYPOINT JSON (pixels or normalised), written and read back."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from openpose_py.controlnet.posefile import PoseFileError, read_pose_frames, write_comfyui_json

BADMINTON = "openpose-official-json/badminton_first500/json"


def _comfy_frame(points: list[tuple[float, float]], width: int, height: int, scale: float = 1.0) -> dict:
    flat = []
    for x, y in points:
        flat += [x * scale, y * scale, 1.0] if x >= 0 else [0.0, 0.0, 0.0]
    return {"people": [{"pose_keypoints_2d": flat, "hand_left_keypoints_2d": None}], "canvas_width": width,
            "canvas_height": height}


POINTS = [(100.0 + 10 * i, 50.0 + 20 * i) for i in range(18)]
POINTS[4] = (-1.0, -1.0)  # missing right wrist


def test_official_openpose_json_needs_a_size_and_is_read_as_body_25(shared_dir, tmp_path) -> None:
    folder = tmp_path / "json"
    folder.mkdir()
    for name in sorted((shared_dir / "data" / BADMINTON).iterdir())[:3]:
        shutil.copy(name, folder)
    with pytest.raises(PoseFileError, match="--canvas-size"):
        read_pose_frames(folder)
    frames = read_pose_frames(folder, (1920, 1080))
    assert [f.name for f in frames] == [f"video_{i:012d}" for i in range(3)]
    person = frames[0].people[0]
    assert person.skeleton.name == "BODY_25" and person["Nose"].x == pytest.approx(927.582)
    # without a canvas of its own a file's pixels are the given canvas's (nothing to scale from)
    assert read_pose_frames(folder, (960, 540))[0].people[0]["Nose"].x == pytest.approx(927.582)


@pytest.mark.parametrize("normalised", [False, True])
def test_comfyui_frames_in_pixels_or_normalised(tmp_path, normalised) -> None:
    width, height = 640, 480
    scale = 1.0 / width if normalised else 1.0
    points = [(x, y * (width / height) if normalised else y) for x, y in POINTS]  # y / height when normalised
    doc = [_comfy_frame(points, width, height, scale), _comfy_frame(points, width, height, scale)]
    path = tmp_path / "pose.json"
    path.write_text(json.dumps(doc))
    frames = read_pose_frames(path)
    assert [f.name for f in frames] == ["pose_000000", "pose_000001"] and frames[0].size == (640, 480)
    person = frames[0].people[0]
    assert person["RWrist"] is None
    assert person["Nose"].x == pytest.approx(100.0) and person["Nose"].y == pytest.approx(50.0)
    bigger = read_pose_frames(path, (1280, 960))[1].people[0]
    assert bigger["Neck"].x == pytest.approx(220.0) and bigger["Neck"].y == pytest.approx(140.0)


def test_written_comfyui_json_reads_back(tmp_path) -> None:
    path = tmp_path / "pose.json"
    path.write_text(json.dumps(_comfy_frame(POINTS, 640, 480)))
    frames = read_pose_frames(path)
    write_comfyui_json(tmp_path / "out.json", frames)
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc[0]["canvas_width"] == 640 and len(doc[0]["people"][0]["pose_keypoints_2d"]) == 54
    again = read_pose_frames(tmp_path / "out.json")
    np.testing.assert_allclose(again[0].people[0].as_array(), frames[0].people[0].as_array(), atol=1e-3)


@pytest.mark.parametrize("text, message", [
    ("not json", "cannot read"),
    ('{"frames": []}', "'people' list"),
    ('{"people": [{"pose_keypoints_2d": [1, 2, 3, 4]}]}', "expected"),
    ('{"people": [{"pose_keypoints_2d": [1, 2, 1, 4, 5, 1]}]}', "18 \\(COCO\\)"),
    ('{"people": [], "canvas_width": 0, "canvas_height": 10}', "whole numbers"),
    ('{"people": [{"pose_keypoints_2d": [], "face_keypoints_2d": [1, 2, 1]}], "canvas_width": 9, '
     '"canvas_height": 9}', "expected 210"),
])
def test_bad_files_are_one_clear_error(tmp_path, text, message) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(PoseFileError, match=message):
        read_pose_frames(path, (64, 64) if "canvas" not in text else None)
