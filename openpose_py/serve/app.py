"""The FastAPI application: one :class:`PoseEstimator` per app, shared by every request through a micro-batcher."""

from __future__ import annotations

import asyncio
import inspect
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, AsyncIterator, Callable

import numpy as np
from fastapi import Depends, FastAPI, Query, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..decode.fields import tunable_fields
from ..errors import OutputError
from ..images import encode_image
from ..inference import PoseEstimator
from ..render import RenderStyle, draw_people
from ..results import Person, format_openpose_json, openpose_json
from ..skeleton import FACE_70, HAND_21
from ..video import KeypointScale
from .auth import BearerTokenMiddleware
from .batcher import MicroBatcher
from .config import ServeConfig, SessionFactory, default_session
from .schemas import ErrorBody, Health, ModelInfo, OpenPoseDocument, PartInfo, SkeletonInfo
from .state import ServerState, warm_up
from .stream import detect_people, run_stream
from .uploads import ApiError, check_upload, decode_upload, read_body

__all__ = ["create_app", "ServerState"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
_DESCRIPTION = """\
POST a picture to `/v1/pose` for its people as OpenPose 1.3 JSON. Errors are `{"error": "<one line>"}` with a 4xx
status (400 bad picture, 401 token, 413 too large, 415 not JPEG/PNG/WebP, 422 bad option) or 503 when the queue is
full (retry after `Retry-After` seconds).

**WebSocket `/v1/stream`**: send each frame as a binary message (JPEG, PNG or WebP bytes); every frame gets one text
message back, in order: `{"frame", "version", "people", "width", "height", "timing": {"decode_ms", "queue_ms",
"infer_ms", "batch_size", "server_ms"}}` (people as in `/v1/pose`, `person_id` holding the track id when the server
tracks people), or `{"frame", "error", "status"}` for a refused frame (415, 413, 400, 429 beyond the connection's
frame rate, 503); the stream goes on after a refusal. Send the next frame after the previous answer. `openpose-py serve`
closes a connection whose message is over the body limit (code 1009).
"""
_ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 413, 415, 422, 503)}
_IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "description": "A JPEG, PNG or WebP picture: the raw bytes (Content-Type image/jpeg, image/png, image/webp or "
                       "application/octet-stream), or a multipart/form-data upload with one file field.",
        "content": {
            **{t: {"schema": {"type": "string", "format": "binary"}}
               for t in ("image/jpeg", "image/png", "image/webp", "application/octet-stream")},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"}}, "required": ["file"]}},
        },
    }
}


def create_app(estimator: PoseEstimator, config: ServeConfig = ServeConfig(), *,
               session_factory: SessionFactory = default_session) -> FastAPI:
    """A FastAPI app serving ``estimator``; ``session_factory`` makes each WebSocket stream's session (tracking)."""
    batcher = MicroBatcher(estimator, max_batch=config.max_batch, max_wait_s=config.batch_wait_ms / 1e3,
                           max_queue=config.max_queue)
    state = ServerState(estimator, config, batcher, session_factory)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await batcher.start()
        warmup = asyncio.get_running_loop().create_task(warm_up(state))
        yield
        warmup.cancel()
        await batcher.stop()

    app = FastAPI(title="openpose-py", summary="Multi-person 2D pose estimation (OpenPose JSON) over HTTP",
                  description=_DESCRIPTION, version=_version(), lifespan=lifespan)
    app.state.server = state
    if config.token is not None:
        app.add_middleware(BearerTokenMiddleware, token=config.token)
    _add_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _add_info_routes(app, state)
    _add_pose_route(app, state)

    @app.websocket("/v1/stream")
    async def stream(websocket: WebSocket) -> None:
        """Binary frames (JPEG/PNG/WebP) in; one JSON text message (schemas.StreamFrame) out per frame."""
        await run_stream(websocket, state)

    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every refusal as ``{"error": "<one line>"}``: the API's own, unknown paths and methods, invalid options."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"Retry-After": "1"} if exc.status in (429, 503) else None
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # an unknown path or a method an endpoint does not take: the same {"error": ...} body as every refusal
        return JSONResponse({"error": f"{exc.detail}: {request.method} {request.url.path}"},
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
                             for e in exc.errors())
        return JSONResponse({"error": f"invalid request: {problems}"}, status_code=422)


def _add_info_routes(app: FastAPI, state: ServerState) -> None:
    """The page, the health probes and what the server runs (its model and skeleton)."""
    estimator, config, batcher = state.estimator, state.config, state.batcher

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.head("/healthz", include_in_schema=False)  # HEAD apart: one route of two methods is one operation id twice
    @app.get("/healthz", response_model=Health, summary="Liveness, readiness and load (HEAD too, for probes)")
    async def healthz() -> Health:
        s = batcher.stats
        return Health(status="ok", ready=state.ready.is_set(), queued=batcher.queued, streams=state.streams,
                      batches=s.batches, images=s.images, rejected=s.rejected, largest_batch=s.largest_batch)

    @app.head("/readyz", include_in_schema=False)
    @app.get("/readyz", response_model=Health, responses={503: {"model": ErrorBody}}, summary="200 once warm, else 503")
    async def readyz() -> Health:
        if not state.ready.is_set():
            raise ApiError(503, "the model is still warming up")
        return await healthz()

    @app.get("/v1/models", response_model=ModelInfo, summary="The model this server runs")
    async def models() -> ModelInfo:
        est = estimator
        return ModelInfo(model=config.model_name, skeleton=est.skeleton.name, height=est.preprocess_spec.height,
                         scales=list(est.scales), flip=est.flip, device=str(est.device),
                         decoder=asdict(est.decoder), max_batch=config.max_batch,
                         limits={"max_body_bytes": config.max_body_bytes, "max_pixels": config.max_pixels,
                                 "max_stream_fps": config.max_stream_fps, "max_queue": config.max_queue,
                                 "max_inflight_pixels": config.max_inflight_pixels,
                                 "max_connections": config.max_connections, "body_timeout_s": config.body_timeout_s},
                         details=dict(config.extra))

    @app.get("/v1/skeleton", response_model=SkeletonInfo, summary="Keypoints, drawn limbs and render colours")
    async def skeleton() -> SkeletonInfo:
        return _skeleton_info(estimator)


def _add_pose_route(app: FastAPI, state: ServerState) -> None:
    """``POST /v1/pose``: one picture's people as OpenPose JSON, or the picture with them drawn."""
    estimator, config, batcher = state.estimator, state.config, state.batcher

    @app.post("/v1/pose", summary="People in one picture, as OpenPose 1.3 JSON (or the rendered picture)",
              response_class=Response, openapi_extra=_IMAGE_BODY,
              responses={200: {"model": OpenPoseDocument, "content": {"image/png": {}},
                               "description": "OpenPose JSON, byte-for-byte as `openpose-py image --json-dir` "
                                              "writes it; with render=true a PNG of the picture with skeletons."},
                         **_ERRORS})
    async def pose(
        request: Request,
        render: Annotated[bool, Query(description="Answer with the picture and its skeletons drawn (PNG).")] = False,
        render_threshold: Annotated[float, Query(ge=0, le=1, description="With render: keypoints scoring at or "
                                                 "below this are not drawn.")] = 0.05,
        keypoint_scale: Annotated[int, Query(ge=0, le=4, description="JSON coordinates: 0 pixels, 3 [0,1], "
                                             "4 [-1,1] (OpenPose's modes).")] = 0,
        part_candidates: Annotated[bool, Query(description="Add every keypoint candidate to the JSON.")] = False,
        number_people_max: Annotated[int | None, Query(ge=-1, description="Keep at most this many people, best "
                                                       "first (-1: all). Default: the server's.")] = None,
        decoder_fields: Annotated[dict[str, float], Depends(_decoder_query())] = {},
    ) -> Response:
        if keypoint_scale not in (0, 3, 4):
            raise ApiError(422, f"invalid request: keypoint_scale must be 0, 3 or 4, got {keypoint_scale}")
        data = await read_body(request, config.max_body_bytes, config.body_timeout_s)
        header = check_upload(data, config.max_pixels)
        overrides: dict[str, float | None] = dict(decoder_fields)
        if number_people_max is not None:
            overrides["max_people"] = None if number_people_max < 0 else number_people_max
        try:
            decoder = estimator.decoder.replace(**overrides)
        except ValueError as exc:  # a combination the query's own ranges let through
            raise ApiError(422, f"invalid request: {exc}") from None
        with state.pixels.hold(header.pixels):  # from decoding to the last use of the decoded picture
            image = await decode_upload(data, header)
            detection, timing = await detect_people(batcher, image, decoder)
            headers = {"Server-Timing": f"queue;dur={timing.queue_ms:.1f}, infer;dur={timing.infer_ms:.1f}",
                       "X-Batch-Size": str(timing.batch_size)}
            if render:
                png = await run_in_threadpool(_render_png, image, detection.people,
                                              RenderStyle(threshold=render_threshold))
                return Response(png, media_type="image/png", headers=headers)
        scale, offset = KeypointScale(keypoint_scale).transform(header.width, header.height)
        doc = openpose_json(detection.people, part_candidates=detection.part_candidates if part_candidates else None,
                            scale=scale, offset=offset)
        return Response(format_openpose_json(doc), media_type="application/json", headers=headers)


def _decoder_query() -> Callable[..., dict[str, float]]:
    """A dependency taking each tunable decoder field (``decode.fields``) as an optional query parameter, its range
    from the decoder's table in the OpenAPI; the decoder checks the values (one message for the CLI, API and server).
    It answers the fields given."""
    params = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        f.kind | None, Query(description=f"{f.help} In [{f.low:g}, {f.high:g}]. Default: the server's.",
                             json_schema_extra={"minimum": f.low, "maximum": f.high})]) for f in tunable_fields()]

    def given(**values: float | None) -> dict[str, float]:
        return {name: value for name, value in values.items() if value is not None}

    given.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return given


def _skeleton_info(estimator: PoseEstimator) -> SkeletonInfo:
    """The served people's skeleton (BODY_25 when feet are found) and the tables of the parts found."""
    sk = estimator.parts.skeleton(estimator.skeleton)
    colors = sk.colors or ((255, 255, 255),) * sk.num_keypoints
    return SkeletonInfo(name=sk.name, keypoints=list(sk.keypoints), limbs=[[limb.a, limb.b] for limb in sk.render_limbs],
                        colors=[[int(b_g_r[2]), int(b_g_r[1]), int(b_g_r[0])] for b_g_r in colors],
                        parts=_part_tables(estimator.parts.config))


def _part_tables(config) -> dict[str, PartInfo]:
    """The hand and face tables of the parts the server finds (colours as [r, g, b])."""
    tables = {"hand": HAND_21} if config.hands else {}
    if config.face:
        tables["face"] = FACE_70
    return {key: PartInfo(keypoints=list(t.keypoints), edges=[list(e) for e in t.edges],
                          colors=[[c[2], c[1], c[0]] for c in t.colors]) for key, t in tables.items()}


def _render_png(image: np.ndarray, people: list[Person], style: RenderStyle) -> bytes:
    try:
        return encode_image(draw_people(image, people, style), ".png")
    except OutputError:
        raise ApiError(500, "could not encode the rendered picture") from None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("openpose-py")
    except PackageNotFoundError:
        return "0"
