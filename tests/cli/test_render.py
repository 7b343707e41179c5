"""``openpose-py render`` (pose files -> pictures, a video, ComfyUI JSON) and ``--render-style controlnet`` on the
commands that run the network."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from openpose_py.controlnet import ControlNetStyle
from openpose_py.controlnet.posefile import read_pose_frames

from .conftest import FIVE_FRAMES, LOW, MEDIA, SHARED, error_of, needs_weights
from ..conftest import require_shared

BADMINTON = SHARED / "data" / "openpose-official-json" / "badminton_first500" / "json"


@pytest.fixture
def official_json(tmp_path):
    require_shared(BADMINTON)
    folder = tmp_path / "json"
    folder.mkdir()
    for name in sorted(BADMINTON.iterdir())[:4]:
        shutil.copy(name, folder)
    return folder


def test_render_official_json_as_controlnet_pictures_video_and_comfyui_json(invoke, official_json, tmp_path):
    result = invoke("render", official_json, "--canvas-size", "1920x1080", "--render-style", "controlnet",
                    "--output", tmp_path / "pics", "--comfyui-json", tmp_path / "pose.json")
    assert result.exit_code == 0, result.output
    pictures = sorted((tmp_path / "pics").iterdir())
    assert [p.name for p in pictures] == [f"video_{i:012d}_rendered.png" for i in range(4)]
    frames = read_pose_frames(official_json, (1920, 1080))
    first = cv2.imread(str(pictures[0]))
    np.testing.assert_array_equal(first, ControlNetStyle().draw(first, frames[0].people))
    # the ComfyUI file carries the canvas; drawn from it at half size, in a video
    assert json.loads((tmp_path / "pose.json").read_text())[0]["canvas_height"] == 1080
    result = invoke("render", tmp_path / "pose.json", "--canvas-size", "960x540", "-o", tmp_path / "pose.mp4",
                    "--fps", "10")
    assert result.exit_code == 0, result.output
    video = cv2.VideoCapture(str(tmp_path / "pose.mp4"))
    assert (video.get(cv2.CAP_PROP_FRAME_WIDTH), video.get(cv2.CAP_PROP_FRAME_COUNT)) == (960, 4)


def test_render_refuses_clearly(invoke, official_json, tmp_path):
    assert "give --canvas-size" in error_of(invoke("render", official_json, "-o", tmp_path / "out"))
    assert "nothing to write" in error_of(invoke("render", official_json))
    assert "a folder, or a video" in error_of(invoke("render", official_json, "-o", tmp_path / "x.gif"))
    assert "no such file" in error_of(invoke("render", tmp_path / "missing", "-o", tmp_path / "out"))
    assert "WIDTHxHEIGHT" in error_of(invoke("render", official_json, "--canvas-size", "0x5", "-o", tmp_path / "o"))
    assert not (tmp_path / "out").exists()


@needs_weights
def test_image_render_style_controlnet_draws_on_black(invoke, tmp_path):
    photo = MEDIA / "COCO_val2014_000000000192.jpg"
    result = invoke("image", photo, *LOW, "--render-dir", tmp_path / "r", "--render-style", "controlnet",
                    "--render-size", "320x200")
    assert result.exit_code == 0, result.output
    picture = cv2.imread(str(tmp_path / "r" / "COCO_val2014_000000000192_rendered.png"))
    assert picture.shape == (200, 320, 3) and picture.any() and (picture == 0).all(axis=2).mean() > 0.8
    assert "--render-style controlnet" in error_of(invoke("image", photo, "--render-size", "9x9", "--render-dir",
                                                          tmp_path / "o"))


@needs_weights
def test_video_controlnet_style_smooths_by_default(invoke, tmp_path):
    def run(name: str, *flags: str) -> list:
        result = invoke("video", FIVE_FRAMES, *LOW, "--end", "3", "--json-dir", tmp_path / name, "--render-style",
                        "controlnet", *flags)
        assert result.exit_code == 0, result.output
        return [json.loads(p.read_text())["people"] for p in sorted((tmp_path / name).iterdir())]

    default = run("default", "--output", tmp_path / "pose.mp4", "--render-size", "320x180")
    rough = run("rough", "--no-smooth")
    # tracking alone keeps every coordinate; the One-Euro filter moves them from the second frame on
    assert default[0] == rough[0] and default != rough
    video = cv2.VideoCapture(str(tmp_path / "pose.mp4"))
    ok, picture = video.read()
    assert ok and picture.shape == (180, 320, 3) and video.get(cv2.CAP_PROP_FRAME_COUNT) == 3
    assert picture.any() and (picture.max(axis=2) < 30).mean() > 0.8  # skeletons on black
