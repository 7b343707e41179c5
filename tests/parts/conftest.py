"""Fixtures of the parts tests: one parts estimator (its networks load once) and the shared whole-body photos."""

from __future__ import annotations

import json

import cv2
import pytest

from openpose_py.parts import PartsConfig, PartsEstimator


@pytest.fixture(scope="session")
def parts_estimator() -> PartsEstimator:
    return PartsEstimator(PartsConfig(hands=True, face=True))


@pytest.fixture(scope="session")
def wholebody(shared_dir):
    """(annotations, {image id: BGR picture}) of the 4 COCO-WholeBody photos."""
    root = shared_dir / "data" / "mmpose-samples" / "coco"
    doc = json.loads((root / "test_coco_wholebody.json").read_text())
    return doc["annotations"], {im["id"]: cv2.imread(str(root / im["file_name"])) for im in doc["images"]}


@pytest.fixture(scope="session")
def slp_frame(shared_dir):
    """(first frame of the sign-language clip, path of OpenPose's own JSON for it: BODY_25 with hands and face)."""
    folder = shared_dir / "data" / "openpose-official-json" / "slp_pose_openpose_video"
    cap = cv2.VideoCapture(str(folder / "video.mp4"))
    ok, frame = cap.read()
    cap.release()
    assert ok
    return frame, folder / "video_000000000000_keypoints.json"
