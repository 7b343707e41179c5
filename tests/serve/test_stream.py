"""The WebSocket stream of a real server: frames in, people and timing out; refusals; disconnects free the session."""

from __future__ import annotations

import json
import socket
import time

import cv2
import pytest

from openpose_py.results import Person
from openpose_py.serve import ServeConfig, StreamSession, create_app

from .conftest import Server, httpx, in_process_server, selfie_frames

ws_client = pytest.importorskip("websockets.sync.client", reason="websockets (uvicorn[standard]) is not installed")


def _connect(server: Server, **kwargs):
    return ws_client.connect(server.ws_url, additional_headers=server.auth, open_timeout=10, **kwargs)


def test_stream_round_trip_answers_each_frame_with_people_and_timing(server: Server) -> None:
    frames = selfie_frames(3)
    ids = []
    with _connect(server) as ws:
        for i, frame in enumerate(frames):
            ws.send(cv2.imencode(".jpg", frame)[1].tobytes())
            answer = json.loads(ws.recv(timeout=30))
            assert answer["frame"] == i and "error" not in answer, answer
            assert (answer["width"], answer["height"]) == (frame.shape[1], frame.shape[0])
            assert answer["version"] == 1.3 and len(answer["people"]) >= 1
            person = answer["people"][0]
            assert len(person["pose_keypoints_2d"]) == 18 * 3
            ids.append(person["person_id"])
            assert set(answer["timing"]) == {"decode_ms", "queue_ms", "infer_ms", "batch_size", "server_ms"}
    # `serve` tracks each connection's people by default: the person of the clip keeps one id, given once it has been
    # seen in two frames (a live answer cannot wait: the first frame says -1)
    assert ids == [[-1]] + [[0]] * (len(frames) - 1)


def test_stream_refusals_keep_the_connection(server: Server) -> None:
    frame = cv2.imencode(".jpg", selfie_frames(1)[0])[1].tobytes()
    with _connect(server) as ws:
        ws.send("a text message")
        assert json.loads(ws.recv(timeout=30))["status"] == 415
        # the limit is 20 frames a second: a burst of 30 tiny (bad) frames is refused from the 21st on with 429
        for _ in range(30):
            ws.send(b"x")
        statuses = [json.loads(ws.recv(timeout=30))["status"] for _ in range(30)]
        assert statuses[:20] == [415] * 20 and statuses[20:] == [429] * 10
        time.sleep(1.1)  # the window has passed: frames are welcome again
        ws.send(frame)
        answer = json.loads(ws.recv(timeout=30))
        assert "error" not in answer and answer["people"]


def test_a_client_leaving_mid_stream_frees_its_session(server: Server) -> None:
    frame = cv2.imencode(".jpg", selfie_frames(1)[0])[1].tobytes()
    with _connect(server, close_timeout=1) as ws:
        ws.send(frame)
        ws.send(frame)
        assert _streams(server) == 1
        ws.socket.shutdown(socket.SHUT_RDWR)  # gone without a closing handshake, answers unread
    deadline = time.monotonic() + 20
    while _streams(server) != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _streams(server) == 0
    with _connect(server) as other:  # and the server still streams
        other.send(frame)
        assert json.loads(other.recv(timeout=30))["people"]


def test_stream_needs_the_token(server: Server) -> None:
    with pytest.raises(Exception) as refused:
        ws_client.connect(server.ws_url, open_timeout=10)
    assert "403" in str(refused.value)
    with ws_client.connect(server.ws_url + f"?token={server.token}", open_timeout=10) as ws:
        ws.send(b"")
        assert json.loads(ws.recv(timeout=30))["status"] == 400


def _streams(server: Server) -> int:
    return httpx.get(server.url + "/healthz", headers=server.auth).json()["streams"]


def test_each_connection_gets_its_own_tracker_session(estimator_160) -> None:
    """The tracking slot: the app's session factory makes one tracker per connection, fed every frame in order."""
    made: list[list[float]] = []

    def numbering_session(skeleton) -> StreamSession:
        seen: list[float] = []
        made.append(seen)

        def tracker(people: list[Person], timestamp: float) -> list[Person]:
            seen.append(timestamp)
            return [p.with_track_id(100 * len(made) + len(seen)) for p in people]

        return StreamSession(tracker=tracker)

    frame = cv2.imencode(".jpg", selfie_frames(1)[0])[1].tobytes()
    app = create_app(estimator_160, ServeConfig(max_batch=1), session_factory=numbering_session)
    with in_process_server(app) as url:
        for connection in (1, 2):
            with ws_client.connect(url.replace("http", "ws") + "/v1/stream", open_timeout=10) as ws:
                for n in (1, 2):
                    ws.send(frame)
                    people = json.loads(ws.recv(timeout=30))["people"]
                    assert people and all(p["person_id"] == [100 * connection + n] for p in people)
    assert len(made) == 2 and all(len(ts) == 2 and ts[0] < ts[1] for ts in made)


def test_a_text_frame_that_is_not_utf8_closes_the_stream_without_a_traceback(server: Server) -> None:
    """Failure: uvicorn's default WebSocket code logged a Python traceback for every such frame (a log any client
    could flood); the server runs its streams through wsproto, which closes the connection quietly."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     + f"Authorization: Bearer {server.token}\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 101")
        key, payload = b"\x01\x02\x03\x04", b"\xff\xfe\xfd"
        sock.sendall(bytes([0x81, 0x80 | len(payload)]) + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload)))
        while sock.recv(4096):  # the server ends the connection
            pass
    assert httpx.get(server.url + "/healthz", headers=server.auth, timeout=10).status_code == 200
    assert "Traceback" not in server.log.read_text()
