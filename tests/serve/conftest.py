"""A real ``openpose-py serve`` process on a loopback port, shared by the serve tests of a session."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from ..conftest import SHARED, require_shared

pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install -e '.[serve]')")
httpx = pytest.importorskip("httpx", reason="httpx (dev extra) is not installed")

WEIGHTS = Path(os.environ.get("OPENPOSE_PY_WEIGHTS_DIR") or SHARED / "weights")
MEDIA = SHARED / "data" / "openpose-media"
SELFIE = SHARED / "data" / "videos" / "selfie_upper_body.mp4"
PHOTOS = (MEDIA / "COCO_val2014_000000000192.jpg", MEDIA / "COCO_val2014_000000000241.jpg")
TOKEN = "s3cret-test-token"
# the network options both the server and the CLI run with in these tests
NETWORK = ("--height", "160", "--threads", "2")
# small limits so the refusals are cheap to provoke
LIMITS = ("--max-body-mb", "1", "--max-megapixels", "2", "--max-stream-fps", "20", "--max-queue", "8")


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    log: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/v1/stream"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self) -> "httpx.Client":
        return httpx.Client(base_url=self.url, headers=self.auth, timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def console_script() -> str:
    return shutil.which("openpose-py") or str(Path(sys.executable).parent / "openpose-py")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Server:
    """``openpose-py serve`` with a token and small limits; stopped with SIGINT (as Ctrl-C) at the end."""
    require_shared(WEIGHTS / "hpe-0001", MEDIA)
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    env = {**os.environ, "OPENPOSE_PY_WEIGHTS_DIR": str(WEIGHTS), "OPENPOSE_PY_OFFLINE": "1"}
    env.pop("OPENPOSE_PY_TOKEN", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen([console_script(), "serve", "--port", str(port), "--token", TOKEN, *NETWORK, *LIMITS],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    srv = Server(f"http://127.0.0.1:{port}", TOKEN, log)
    try:
        _wait_ready(srv, proc)
        yield srv
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(srv: Server, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{srv.log.read_text()}")
        try:
            if httpx.get(srv.url + "/readyz", headers=srv.auth, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"the server was not ready within {timeout} s:\n{srv.log.read_text()}")


def selfie_frames(count: int, width: int = 320) -> list:
    """The first ``count`` frames of the selfie clip, BGR, scaled to ``width`` pixels wide."""
    import cv2

    require_shared(SELFIE)
    cap = cv2.VideoCapture(str(SELFIE))
    frames = []
    try:
        while len(frames) < count:
            ok, frame = cap.read()
            if not ok:
                break
            h, w = frame.shape[:2]
            frames.append(cv2.resize(frame, (width, int(round(h * width / w / 2)) * 2), interpolation=cv2.INTER_AREA))
    finally:
        cap.release()
    if len(frames) < count:
        pytest.fail(f"{SELFIE} has fewer than {count} frames")
    return frames


@pytest.fixture(scope="session")
def estimator_160():
    """The pretrained lightweight network at height 160, for in-process servers and batcher tests."""
    from openpose_py import PoseEstimator

    return PoseEstimator.from_pretrained("lightweight", height=160)


@contextlib.contextmanager
def in_process_server(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port from a background thread; yields its base URL."""
    import uvicorn

    from openpose_py.serve.config import uvicorn_options

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **uvicorn_options(app.state.server.config)))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not srv.started or httpx.get(url + "/readyz", timeout=2).status_code != 200:
            if time.monotonic() > deadline or not thread.is_alive():
                pytest.fail("the in-process server did not become ready")
            time.sleep(0.1)
        yield url
    finally:
        srv.should_exit = True
        thread.join(timeout=30)
