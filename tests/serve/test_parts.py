"""The server with hands and faces (serve --hand --face): its answers carry the parts and /v1/skeleton their tables."""

from __future__ import annotations

import json

import cv2
import pytest

from openpose_py.skeleton import FACE_70, HAND_21

from .conftest import SHARED
from ..conftest import require_shared

pytest.importorskip("fastapi")
SLP = SHARED / "data" / "openpose-official-json" / "slp_pose_openpose_video" / "video.mp4"


def test_answers_and_skeleton_carry_hands_and_faces(default_estimator):
    from fastapi.testclient import TestClient

    from openpose_py import PoseEstimator
    from openpose_py.parts import PartsConfig
    from openpose_py.serve.app import create_app

    require_shared(SLP)
    est = PoseEstimator(default_estimator.model, default_estimator.spec, runner=default_estimator._runner,
                        parts=PartsConfig(hands=True, face=True))
    cap = cv2.VideoCapture(str(SLP))
    ok, frame = cap.read()
    cap.release()
    with TestClient(create_app(est)) as client:
        skeleton = client.get("/v1/skeleton").json()
        reply = client.post("/v1/pose", content=cv2.imencode(".jpg", frame)[1].tobytes())
    assert skeleton["parts"]["hand"]["edges"] == [list(e) for e in HAND_21.edges]
    assert len(skeleton["parts"]["face"]["keypoints"]) == FACE_70.num_keypoints
    (person,) = json.loads(reply.content)["people"]
    assert [len(person[k]) for k in ("face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d")] == \
        [210, 63, 63]
