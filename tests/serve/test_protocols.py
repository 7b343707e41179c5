"""The server's own limits in uvicorn's protocols, on a real server over loopback: an oversized or overlong header
section is answered 431 with the JSON error before the application runs, an over-size WebSocket frame 413 in the
stream, and the server keeps serving."""

from __future__ import annotations

import json
import socket
import warnings

import cv2
import numpy as np
import pytest

from openpose_py.serve import ServeConfig, create_app

from .conftest import httpx, in_process_server


def _exchange(url: str, head: bytes, chunk: int = 1 << 16) -> bytes:
    """Send ``head`` (a request's header section, in pieces) on a fresh connection; the server's whole answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        try:
            for start in range(0, len(head), chunk):
                sock.sendall(head[start:start + chunk])
        except (BrokenPipeError, ConnectionResetError):  # the server answered and closed while we were sending
            pass
        answer = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
    return answer


@pytest.fixture(scope="module")
def url(estimator_160):
    config = ServeConfig(max_batch=1, max_header_bytes=8192, max_header_fields=20)
    with in_process_server(create_app(estimator_160, config)) as base:
        yield base


@pytest.mark.parametrize("head", [
    pytest.param(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5_000_000 + b"\r\n\r\n", id="one 5 MB field"),
    pytest.param(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-F: y\r\n" * 30 + b"\r\n", id="30 fields"),
    pytest.param(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-F: " + b"y" * 900 + b"\r\n"
                 + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 900) for i in range(10)) + b"\r\n", id="10 x 900 bytes"),
    pytest.param(b"GET /healthz?" + b"q" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", id="20 kB request line"),
])
def test_a_header_section_over_the_caps_is_answered_431_in_json(url, head):
    answer = _exchange(url, head)
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 431 Request Header Fields Too Large", answer[:200]
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert body == {"error": "the request's headers are over this server's limit of 8192 bytes and 20 fields"}
    assert httpx.get(url + "/healthz", timeout=10).status_code == 200


def test_headers_within_the_caps_are_served(url):
    headers = {f"X-Field-{i}": "v" * 300 for i in range(15)}
    assert httpx.get(url + "/healthz", headers=headers, timeout=10).status_code == 200


def test_an_over_size_websocket_frame_is_answered_413_in_json_and_the_stream_goes_on(estimator_160):
    """Failure: uvicorn closed the connection (code 1009) or reset it instead of answering as other refusals."""
    ws_client = pytest.importorskip("websockets.sync.client", reason="websockets (uvicorn[standard]) is missing")
    frame = cv2.imencode(".jpg", np.full((64, 96, 3), 128, np.uint8))[1].tobytes()
    app = create_app(estimator_160, ServeConfig(max_batch=1, max_body_bytes=100_000))
    with in_process_server(app) as base:
        with ws_client.connect(base.replace("http", "ws") + "/v1/stream", open_timeout=10, max_size=None) as ws:
            for payload, text in ((b"\xff" * 300_000, False), ("x" * 150_000, True), (frame, False)):
                ws.send(payload, text=text)
                answer = json.loads(ws.recv(timeout=30))
                if payload is frame:
                    assert answer["people"] == [] and answer["width"] == 96, answer
                else:
                    size = len(payload)
                    assert answer == {"frame": answer["frame"], "status": 413,
                                      "error": f"frame of {size} bytes is over this server's limit of 100000"}


def test_the_schema_has_one_operation_per_endpoint_and_probes_still_take_head(url, estimator_160):
    """Failure: /healthz and /readyz took GET and HEAD in one route, and FastAPI warned "Duplicate Operation ID"
    when it built /openapi.json."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        schema = create_app(estimator_160, ServeConfig()).openapi()
    ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert set(schema["paths"]["/healthz"]) == {"get"} and set(schema["paths"]["/readyz"]) == {"get"}
    for path in ("/healthz", "/readyz"):
        assert httpx.head(url + path, timeout=10).status_code == 200
