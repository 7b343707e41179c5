"""Reading uploads: the pixel budget that bounds the memory of pictures in progress, and the body timeout, on an
in-process server over loopback."""

from __future__ import annotations

import socket
import time

import cv2
import numpy as np
import pytest

from openpose_py.serve import ServeConfig, create_app
from openpose_py.serve.uploads import ApiError, PixelBudget

from .conftest import httpx, in_process_server, selfie_frames


def test_the_budget_lets_one_picture_in_always_and_refuses_what_would_pass_it() -> None:
    budget = PixelBudget(100)
    with budget.hold(60):
        with pytest.raises(ApiError) as refused:
            with budget.hold(60):
                pass
        assert refused.value.status == 503 and "60 would pass the limit of 100" in refused.value.message
        with budget.hold(40):
            assert budget.held == 100
    assert budget.held == 0
    with budget.hold(500):  # alone, even a picture over the budget goes through
        assert budget.held == 500
    assert budget.held == 0


def test_pictures_beyond_the_budget_get_503_and_a_stalled_body_408(estimator_160) -> None:
    """Failures: decoded pictures were bounded only once queued, so 16 concurrent 4096 x 4096 uploads took the server
    to 5 GB; a body that stopped arriving held its connection for good."""
    frame = selfie_frames(1)[0]
    jpeg = cv2.imencode(".jpg", frame)[1].tobytes()
    pixels = frame.shape[0] * frame.shape[1]
    app = create_app(estimator_160, ServeConfig(max_batch=1, max_pixels=pixels, max_inflight_pixels=pixels,
                                                body_timeout_s=3.0))
    state = app.state.server
    with in_process_server(app) as url:
        assert httpx.post(url + "/v1/pose", content=jpeg, timeout=60).status_code == 200
        assert state.pixels.held == 0, "a finished request gives its pixels back"
        state.pixels.held = 1  # another picture in progress
        try:
            busy = httpx.post(url + "/v1/pose", content=jpeg, timeout=60)
        finally:
            state.pixels.held = 0
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
        assert busy.json()["error"].startswith("server busy: 1 pixels of pictures in progress")
        assert httpx.post(url + "/v1/pose", content=jpeg, timeout=60).status_code == 200
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(b"POST /v1/pose HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + jpeg[:10])
            started = time.monotonic()
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive within 3 s" in answer
        assert time.monotonic() - started < 20


@pytest.mark.shared("data/openpose-media/COCO_val2014_000000000192.jpg")
def test_a_phone_photo_stored_sideways_is_answered_upright(estimator_160) -> None:
    """Failure: the EXIF orientation was ignored, so a portrait phone photo (stored sideways, orientation 6) found
    fewer people, at sideways coordinates, and rendered sideways."""
    from ..conftest import MEDIA_PHOTO
    from ..test_images import centres, sideways_jpeg

    upright = cv2.imread(str(MEDIA_PHOTO))
    plain = cv2.imencode(".jpg", upright, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    with in_process_server(create_app(estimator_160, ServeConfig(max_batch=1))) as url:
        answers = [httpx.post(url + "/v1/pose", content=data, timeout=60) for data in (plain, sideways_jpeg(upright))]
        render = httpx.post(url + "/v1/pose", params={"render": "true"}, content=sideways_jpeg(upright), timeout=60)
    found = [centres(np.array([p["pose_keypoints_2d"] for p in a.json()["people"]]).reshape(-1, 18, 3))
             for a in answers]
    assert len(found[0]) >= 3 and found[1].shape == found[0].shape
    assert np.abs(found[1] - found[0]).max() < 16, found  # the same people where they are in the upright photo
    assert cv2.imdecode(np.frombuffer(render.content, np.uint8), cv2.IMREAD_COLOR).shape == upright.shape
