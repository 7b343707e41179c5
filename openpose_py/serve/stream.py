"""The WebSocket stream: binary picture frames in, one JSON answer per frame out, with a session per connection.

Frames are handled one at a time per connection, in order; their images join the shared micro-batcher like any
request. Frames beyond the connection's rate limit, bad pictures and a full queue are answered with an ``error`` and
``status`` (429, 4xx, 503) and the stream goes on. When the client goes away, its session is dropped.
"""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

import numpy as np
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from ..decode.decoder import DecoderConfig
from ..inference import Detection
from ..results import openpose_json
from .batcher import BatchTiming, MicroBatcher, Overloaded
from .config import StreamSession
from .protocols import OVERSIZE
from .state import ServerState
from .uploads import ApiError, check_upload, decode_upload

__all__ = ["run_stream", "detect_people"]


class _RateLimit:
    """At most ``rate`` accepted frames in any one-second window."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._accepted: deque[float] = deque()

    def allow(self, now: float) -> bool:
        while self._accepted and now - self._accepted[0] >= 1.0:
            self._accepted.popleft()
        if len(self._accepted) >= self.rate:
            return False
        self._accepted.append(now)
        return True


async def detect_people(batcher: MicroBatcher, image: np.ndarray,
                        decoder: DecoderConfig | None = None) -> tuple[Detection, BatchTiming]:
    """The batcher's answer, or an :class:`ApiError`: 503 when its queue is full, 500 when the network call failed."""
    try:
        return await batcher.detect(image, decoder)
    except Overloaded as exc:
        raise ApiError(503, str(exc)) from None
    except Exception as exc:  # logged by the batcher; the client gets one line, the server goes on
        raise ApiError(500, f"the network call failed: {type(exc).__name__}: {exc}") from None


async def run_stream(websocket: WebSocket, state: ServerState) -> None:
    config = state.config
    await websocket.accept()
    session = state.session_factory(state.estimator.parts.skeleton(state.estimator.skeleton))
    limit = _RateLimit(config.max_stream_fps)
    opened = time.perf_counter()
    state.streams += 1
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            received = time.perf_counter()
            index = session.frames
            session.frames += 1
            answer = await _answer(state, session, message, index, received, received - opened, limit)
            await websocket.send_text(json.dumps(answer, separators=(",", ":")))
    except (WebSocketDisconnect, OSError):
        pass  # the client went away mid-frame; its answer is dropped
    finally:
        state.streams -= 1
        if websocket.client_state == WebSocketState.CONNECTED:
            try:
                await websocket.close()
            except (RuntimeError, OSError):
                pass


async def _answer(state: ServerState, session: StreamSession, message: dict[str, Any], index: int, received: float,
                  timestamp: float, limit: _RateLimit) -> dict[str, Any]:
    config = state.config
    data = message.get("bytes")
    try:
        size = message.get(OVERSIZE, 0 if data is None else len(data))  # uvicorn drops an over-size frame's bytes
        if size > config.max_body_bytes:
            raise ApiError(413, f"frame of {size} bytes is over this server's limit of {config.max_body_bytes}")
        if data is None:
            raise ApiError(415, "send each frame as a binary WebSocket message holding a JPEG, PNG or WebP picture")
        if not limit.allow(received):
            raise ApiError(429, f"more than {config.max_stream_fps:g} frames per second on this connection; "
                                "frame dropped (wait for each answer before sending the next frame)")
        header = check_upload(data, config.max_pixels)
        with state.pixels.hold(header.pixels):
            image = await decode_upload(data, header)
            decoded = time.perf_counter()
            detection, timing = await detect_people(state.batcher, image)
    except ApiError as exc:
        return {"frame": index, "error": exc.message, "status": exc.status}
    people = session.tracker(detection.people, timestamp)
    doc = openpose_json(people)
    return {
        "frame": index, "version": doc["version"], "people": doc["people"],
        "width": int(image.shape[1]), "height": int(image.shape[0]),
        "timing": {"decode_ms": round((decoded - received) * 1e3, 2), "queue_ms": round(timing.queue_ms, 2),
                   "infer_ms": round(timing.infer_ms, 2), "batch_size": timing.batch_size,
                   "server_ms": round((time.perf_counter() - received) * 1e3, 2)},
    }
