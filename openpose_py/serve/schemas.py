"""Response shapes, for the OpenAPI schema (``/docs``, ``/openapi.json``).

Pose JSON itself is written by :func:`openpose_py.results.format_openpose_json` (byte-for-byte what the CLI writes);
these models only describe it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ErrorBody", "OpenPosePerson", "PartInfo", "OpenPoseDocument", "Health", "ModelInfo", "SkeletonInfo", "StreamTiming",
           "StreamFrame"]


class ErrorBody(BaseModel):
    error: str = Field(description="One line saying what was wrong with the request and what is accepted.")


class OpenPosePerson(BaseModel):
    person_id: list[int] = Field(description="[track id]; [-1] when the person is not tracked.")
    pose_keypoints_2d: list[float] = Field(
        description="x0, y0, score0, x1, ... per keypoint in the skeleton's order (GET /v1/skeleton); "
                    "0, 0, 0 where a keypoint is missing. Pixels unless keypoint_scale says otherwise.")
    face_keypoints_2d: list[float] = Field(description="70 points (x, y, score each; 0, 0, 0 where not found) when "
                                                       "the server finds faces (serve --face), else empty.")
    hand_left_keypoints_2d: list[float] = Field(description="The person's own left hand, 21 points, when the server "
                                                            "finds hands (serve --hand), else empty.")
    hand_right_keypoints_2d: list[float] = Field(description="The right hand, as hand_left_keypoints_2d.")
    pose_keypoints_3d: list[float] = Field(description="Always empty.")
    face_keypoints_3d: list[float] = Field(description="Always empty.")
    hand_left_keypoints_3d: list[float] = Field(description="Always empty.")
    hand_right_keypoints_3d: list[float] = Field(description="Always empty.")


class OpenPoseDocument(BaseModel):
    version: float = Field(description="OpenPose JSON format version, 1.3.")
    people: list[OpenPosePerson] = Field(description="People found, best first.")
    part_candidates: list[dict[str, list[float]]] | None = Field(
        None, description="Only with part_candidates=true: per keypoint index, every heatmap peak as x, y, score.")


class Health(BaseModel):
    status: str = Field(description="'ok' while the process serves requests.")
    ready: bool = Field(description="True once the model is loaded and has run once.")
    queued: int = Field(description="Images waiting for the network now.")
    streams: int = Field(description="Open WebSocket streams.")
    batches: int = Field(description="Network calls made so far.")
    images: int = Field(description="Images run so far.")
    rejected: int = Field(description="Requests refused because the queue was full.")
    largest_batch: int = Field(description="Most images one network call has taken.")


class ModelInfo(BaseModel):
    model: str = Field(description="Registered weights name the server runs.")
    skeleton: str = Field(description="Keypoint set (see GET /v1/skeleton).")
    height: int = Field(description="Network input height at scale 1.")
    scales: list[float] = Field(description="Input scales averaged per image.")
    flip: bool = Field(description="Whether the mirrored image is also run.")
    device: str = Field(description="Torch device.")
    decoder: dict[str, float | int | str | bool | None] = Field(description="The default post-processing settings.")
    max_batch: int = Field(description="Images per network call at most (1: no on-the-fly batching).")
    limits: dict[str, int | float] = Field(description="Body bytes, pixels, stream frames per second, queue length, "
                                           "pixels in progress, connections, body timeout (s).")
    details: dict[str, str] = Field(description="More facts given at start-up (backend, ...).")


class PartInfo(BaseModel):
    keypoints: list[str] = Field(description="Point names in JSON order.")
    edges: list[list[int]] = Field(description="Drawn edges as [a, b] point indices; drawn in b's colour.")
    colors: list[list[int]] = Field(description="Per point render colour as [r, g, b], as in the CLI renders.")


class SkeletonInfo(BaseModel):
    name: str = Field(description="Skeleton name.")
    keypoints: list[str] = Field(description="Keypoint names in JSON order.")
    limbs: list[list[int]] = Field(description="Drawn limbs as [a, b] keypoint indices; drawn in b's colour.")
    colors: list[list[int]] = Field(description="Per keypoint render colour as [r, g, b], as in the CLI renders.")
    parts: dict[str, PartInfo] = Field(
        default_factory=dict, description="The hand (hand_left/right_keypoints_2d) and face (face_keypoints_2d) "
                                          "tables, present when the server finds those parts.")


class StreamTiming(BaseModel):
    decode_ms: float = Field(description="Header check and decoding of the frame.")
    queue_ms: float = Field(description="Waiting for a batch.")
    infer_ms: float = Field(description="The batch's network and decoding call.")
    batch_size: int = Field(description="Images in that call.")
    server_ms: float = Field(description="From receiving the frame to sending this answer.")


class StreamFrame(BaseModel):
    """One WebSocket answer (text). A refused frame has ``error`` and ``status`` instead of people."""

    frame: int = Field(description="Index of the frame on this connection, from 0.")
    version: float = Field(description="OpenPose JSON format version, 1.3.")
    people: list[OpenPosePerson] = Field(description="As in POST /v1/pose; person_id carries the track id.")
    width: int = Field(description="Frame width in pixels.")
    height: int = Field(description="Frame height in pixels.")
    timing: StreamTiming
