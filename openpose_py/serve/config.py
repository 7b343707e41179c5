"""Server settings and the per-connection stream session (where tracking plugs in)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Callable

from ..checks import check_all
from ..results import Person
from ..skeleton import Skeleton
from .protocols import header_capped_protocol, oversize_answering_ws_protocol

__all__ = ["ServeConfig", "StreamSession", "Tracker", "SessionFactory", "default_session", "TOKEN_ENV",
           "uvicorn_options"]

#: Environment variable holding the bearer token when ``--token`` is not given.
TOKEN_ENV = "OPENPOSE_PY_TOKEN"

#: Turns one frame's people (and its time in seconds) into the people to send, e.g. with track ids and smoothing.
Tracker = Callable[[list[Person], float], list[Person]]


def _untracked(people: list[Person], timestamp: float) -> list[Person]:
    return people


@dataclass(slots=True)
class StreamSession:
    """State of one WebSocket stream, created when it opens and dropped when it closes.

    ``tracker`` sees every frame's people in order; the default passes them through untouched.
    """

    tracker: Tracker = _untracked
    frames: int = 0


#: Makes the session of a new stream for the served model's skeleton.
SessionFactory = Callable[[Skeleton], StreamSession]


def default_session(skeleton: Skeleton) -> StreamSession:
    return StreamSession()


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """Limits and batching of one server.

    Attributes:
        token: when set, every endpoint requires ``Authorization: Bearer <token>`` (or ``?token=``).
        max_batch: images per network call (1: no on-the-fly batching).
        batch_wait_ms: how long a batch keeps collecting images after its first one.
        max_queue: images waiting for the network beyond which requests get 503.
        max_body_bytes: largest accepted request body or WebSocket frame.
        max_pixels: largest accepted picture (width x height), read from its header before decoding.
        max_stream_fps: frames per second accepted on one WebSocket; faster frames are answered with a 429 error.
        max_inflight_pixels: pixels of the pictures held decoded at once, over every request and stream (decoding,
            queued, in the network, being rendered); a picture that would go over is answered 503 at once, so that
            memory stays bounded however many large uploads arrive together (a 4096 x 4096 16-bit PNG takes about
            290 MB while it decodes).
        max_connections: open connections (and WebSocket streams) beyond which new ones are answered 503.
        body_timeout_s: seconds a request body may take to arrive in full (then 408).
        max_header_bytes, max_header_fields: the largest header section (request line and fields) and the most
            header fields one request may send (then 431 and the connection closed).
        model_name: the name ``/v1/models`` reports.
    """

    token: str | None = None
    max_batch: int = 8
    batch_wait_ms: float = 5.0
    max_queue: int = 32
    max_body_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 4096 * 4096
    max_stream_fps: float = 30.0
    max_inflight_pixels: int = 4 * 4096 * 4096
    max_connections: int = 256
    body_timeout_s: float = 30.0
    max_header_bytes: int = 64 * 1024
    max_header_fields: int = 100
    model_name: str = "lightweight"
    extra: dict[str, str] = field(default_factory=dict)  # more facts for /v1/models (backend, ...)

    def __post_init__(self) -> None:
        check_all([
            (self.max_batch >= 1 and self.max_queue >= 1, "max_batch and max_queue must be at least 1"),
            (not (self.batch_wait_ms < 0 or self.max_body_bytes < 1 or self.max_pixels < 1
                  or self.max_stream_fps <= 0), "batch_wait_ms must be >= 0 and the size and rate limits positive"),
            (self.max_inflight_pixels >= self.max_pixels,
             f"max_inflight_pixels ({self.max_inflight_pixels}) must hold at least one picture of max_pixels "
             f"({self.max_pixels})"),
            (self.max_header_bytes >= 1024 and self.max_header_fields >= 8,
             "max_header_bytes must be at least 1024 and max_header_fields at least 8"),
            (self.max_connections >= 1 and self.body_timeout_s > 0,
             "max_connections and body_timeout_s must be positive"),
            (self.token is None or bool(self.token.strip()), "the token must not be empty"),
        ])


def uvicorn_options(config: ServeConfig) -> dict[str, Any]:
    """How uvicorn runs a server of ``config``: WebSocket frames up to the body limit, through wsproto (uvicorn's
    default WebSocket code logs a traceback for a text frame that is not UTF-8; larger frames are answered 413),
    header sections capped, connections capped, quiet logs."""
    return {"ws": oversize_answering_ws_protocol(), "ws_max_size": config.max_body_bytes, "limit_concurrency": config.max_connections,
            "timeout_graceful_shutdown": 5, "log_level": "warning", **_http_protocol(config)}


def _http_protocol(config: ServeConfig) -> dict[str, Any]:
    """The HTTP protocol with the header caps: httptools' (answers 431), else h11's own cap on the header section
    (answers 400)."""
    if importlib.util.find_spec("httptools") is None:
        return {"http": "h11", "h11_max_incomplete_event_size": config.max_header_bytes}
    return {"http": header_capped_protocol(config.max_header_bytes, config.max_header_fields)}
