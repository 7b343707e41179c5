"""Downloads over loopback HTTP: truncated, wrong and missing files leave nothing behind; a good one is cached."""

from __future__ import annotations

import http.server
import threading

import pytest

from openpose_py import weights as W
from openpose_py.errors import ChecksumError, WeightsError

from .conftest import PAYLOAD, PAYLOAD_SHA, register_tiny


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server API)
        body, announced = PAYLOAD, len(PAYLOAD)
        if self.path == "/truncated":
            body = PAYLOAD[: len(PAYLOAD) // 3]  # announces the full length, then hangs up
        elif self.path == "/wrong":
            body = bytes(reversed(PAYLOAD))
        elif self.path != "/good":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(announced))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_over_loopback(env, monkeypatch, server):
    _, cache = env
    for route, error in (("truncated", "truncated"), ("wrong", "sha256"), ("missing", "404")):
        register_tiny(monkeypatch, "tiny", url=f"{server}/{route}")
        with pytest.raises(WeightsError, match=error):
            W.resolve("tiny")
        assert not cache.exists() or list(cache.iterdir()) == []  # no partial or corrupt file left
    register_tiny(monkeypatch, "tiny", url=f"{server}/good")
    path = W.resolve("tiny")
    assert path == cache / "tiny.bin" and path.read_bytes() == PAYLOAD
    assert [p.name for p in cache.iterdir()] == ["tiny.bin"]
    with pytest.raises(ChecksumError):
        W.download(W.WeightsSource("x.bin", PAYLOAD_SHA, None, f"{server}/wrong"), cache)
    assert sorted(p.name for p in cache.iterdir()) == ["tiny.bin"]
