"""``openpose-py serve``: the HTTP pose service and the live camera page (needs the ``serve`` extra)."""

from __future__ import annotations

import importlib.util
import os
import socket

import click

from ..errors import OpenPoseError
from .options import EstimatorOptions, build_estimator, estimator_options, parts_options
from .tracking import TrackingOptions, build_tracker, tracking_options

__all__ = ["serve"]

_SERVE_PACKAGES = ("fastapi", "uvicorn", "multipart", "wsproto")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; 0.0.0.0 exposes the server to the network (consider --token).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port.")
@estimator_options
@parts_options
@click.option("--token", default=None, metavar="TOKEN",
              help="Require 'Authorization: Bearer TOKEN' (or ?token=TOKEN) on every endpoint "
                   "[default: $OPENPOSE_PY_TOKEN if set].")
@click.option("--max-batch", type=click.IntRange(min=1), default=8, show_default=True,
              help="Images per network call; 1 turns on-the-fly batching off (on a quiet 2-core CPU batching "
                   "answered 7-26% more requests per second; docs/benchmarks.md).")
@click.option("--batch-wait-ms", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="How long a batch keeps collecting requests after its first one.")
@click.option("--max-queue", type=click.IntRange(min=1), default=32, show_default=True,
              help="Images waiting for the network beyond which requests are refused with 503.")
@click.option("--max-body-mb", type=click.FloatRange(min=0.001), default=10.0, show_default=True,
              help="Largest request body or WebSocket frame, in MB.")
@click.option("--max-megapixels", type=click.FloatRange(min=0.001), default=16.8, show_default=True,
              help="Largest picture accepted (width x height), checked from its header before decoding.")
@click.option("--max-stream-fps", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Frames per second accepted on one WebSocket connection; faster frames get a 429 answer.")
@click.option("--max-inflight-megapixels", type=click.FloatRange(min=0.001), default=67.2, show_default=True,
              help="Megapixels of the pictures held decoded at once over all requests and streams (a 4096 x 4096 "
                   "16-bit PNG takes about 290 MB while it decodes); a picture beyond it is answered 503. At least "
                   "--max-megapixels.")
@click.option("--max-connections", type=click.IntRange(min=1), default=256, show_default=True,
              help="Open connections beyond which new ones are answered 503.")
@tracking_options(smooth=True, table=False)
def serve(host: str, port: int, estimator_options: EstimatorOptions, token: str | None, max_batch: int,
          batch_wait_ms: float, max_queue: int, max_body_mb: float, max_megapixels: float,
          max_stream_fps: float, max_inflight_megapixels: float, max_connections: int,
          tracking_options: TrackingOptions) -> None:
    """Serve poses over HTTP and a live camera page in the browser.

    \b
    Endpoints: POST /v1/pose (an image -> OpenPose JSON), WebSocket /v1/stream (each connection's people keep
    their ids and are smoothed: --no-track, --no-smooth), GET /v1/models, /v1/skeleton, /healthz, /readyz; the API
    schema at /docs. Open http://HOST:PORT/ for the camera page.

    \b
    Examples:
      openpose-py serve
      openpose-py serve --height 256 --backend openvino-int8
      curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' http://127.0.0.1:8000/v1/pose
    """
    missing = [name for name in _SERVE_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise OpenPoseError(f"`serve` needs the serve extra ({', '.join(missing)} missing): "
                            "pip install 'openpose-py[serve]'")
    import uvicorn

    from ..serve import TOKEN_ENV, ServeConfig, StreamSession, create_app
    from ..serve.config import uvicorn_options

    if token is None:
        token = os.environ.get(TOKEN_ENV) or None
    if token is not None and not token.strip():
        raise click.BadParameter("the token must not be empty", param_hint="'--token'")
    _check_can_listen(host, port)  # before the model loads: a busy port is a one-line error, at once
    if max_inflight_megapixels < max_megapixels:
        raise click.BadParameter(f"must be at least --max-megapixels ({max_megapixels:g})",
                                 param_hint="'--max-inflight-megapixels'")
    estimator = build_estimator(estimator_options)
    config = ServeConfig(token=token, max_batch=max_batch, batch_wait_ms=batch_wait_ms, max_queue=max_queue,
                         max_body_bytes=int(max_body_mb * 1024 * 1024), max_pixels=int(max_megapixels * 1e6),
                         max_stream_fps=max_stream_fps, max_inflight_pixels=int(max_inflight_megapixels * 1e6),
                         max_connections=max_connections, model_name=estimator_options.model,
                         extra={"backend": estimator.backend})

    def session(skeleton) -> StreamSession:  # each WebSocket stream tracks (and smooths) its own people
        tracker = build_tracker(tracking_options, skeleton)
        return StreamSession(tracker=tracker.update) if tracker is not None else StreamSession()

    app = create_app(estimator, config, session_factory=session)
    click.echo(f"openpose-py serve: open http://{_display_host(host)}:{port}/ (API docs at /docs); Ctrl-C stops",
               err=True)
    try:
        uvicorn.run(app, host=host, port=port, **uvicorn_options(config))
    except OSError as exc:  # port in use, address not available
        raise OpenPoseError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _check_can_listen(host: str, port: int) -> None:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as exc:
        raise OpenPoseError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)
