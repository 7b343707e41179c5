"""Pose files for ``openpose-py render``: OpenPose JSON (this package's, the official binary's, pose editors') and
ComfyUI's POSE_KEYPOINT JSON, read into frames of people; and ComfyUI's JSON written back.

An OpenPose document is ``{"people": [{"pose_keypoints_2d": [x, y, c, ...], "hand_left_keypoints_2d": ...,
"hand_right_keypoints_2d": ..., "face_keypoints_2d": ...}, ...]}``; ComfyUI's is a list of such documents (or one),
each with ``canvas_width`` and ``canvas_height``, in pixels or normalised to 0..1. A file whose every point lies in
0..1 is taken as normalised. The body is known by its length: 18 points (COCO), 25 (BODY_25) or 15 (MPI). A point
with confidence 0 (or a negative coordinate, controlnet_aux's mark for a hand or face point not found) is missing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..atomic import write_bytes_atomic
from ..errors import OpenPoseError
from ..results import Person
from ..skeleton import BODY_25, COCO_18, MPI_15
from .poses import PART_NAMES, person_from_arrays

__all__ = ["PoseFileError", "PoseFrame", "read_pose_frames", "comfyui_document", "write_comfyui_json"]

_SKELETONS = {s.num_keypoints: s for s in (COCO_18, BODY_25, MPI_15)}
# JSON key of each part, and its number of points
_PART_KEYS = {"left_hand": ("hand_left_keypoints_2d", 21), "right_hand": ("hand_right_keypoints_2d", 21),
              "face": ("face_keypoints_2d", 70)}


class PoseFileError(OpenPoseError, ValueError):
    """A pose file that cannot be read as OpenPose or ComfyUI pose JSON."""


@dataclass(frozen=True, slots=True)
class PoseFrame:
    """One picture's people, in pixels of a ``size`` (width, height) canvas; ``name`` names its outputs."""

    name: str
    people: tuple[Person, ...]
    size: tuple[int, int]


def _flat(values: Any, count: int | None, where: str) -> np.ndarray | None:
    """A flat [x, y, c, ...] list as an (N, 3) array, None when empty or absent."""
    if values is None or (isinstance(values, list) and not values):
        return None
    try:
        array = np.asarray(values, dtype=np.float64).reshape(-1, 3)
    except (TypeError, ValueError):
        raise PoseFileError(f"{where}: expected a flat list of x, y, confidence numbers") from None
    if array.size % 3 or (count is not None and len(array) != count):
        raise PoseFileError(f"{where}: {len(np.ravel(values))} numbers, expected {3 * (count or len(array))}")
    array[~np.isfinite(array).all(axis=1)] = 0.0
    array[(array[:, 0] < 0) | (array[:, 1] < 0), 2] = 0.0
    return array


def _documents(doc: Any, where: str) -> list[dict[str, Any]]:
    docs = doc if isinstance(doc, list) else [doc]
    if not docs or not all(isinstance(d, dict) and isinstance(d.get("people"), list) for d in docs):
        raise PoseFileError(f"{where}: not OpenPose or ComfyUI pose JSON (each frame needs a 'people' list)")
    return docs


def _canvas(doc: dict[str, Any], where: str) -> tuple[int, int] | None:
    width, height = doc.get("canvas_width"), doc.get("canvas_height")
    if width is None and height is None:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 16384 and float(v).is_integer()
               for v in (width, height)):
        raise PoseFileError(f"{where}: canvas_width and canvas_height must be whole numbers 1-16384, got "
                            f"{width!r}, {height!r}")
    return int(width), int(height)


def _person_arrays(entry: Any, where: str) -> tuple[np.ndarray, dict[str, np.ndarray | None], int]:
    if not isinstance(entry, dict):
        raise PoseFileError(f"{where}: each person must be an object")
    body = _flat(entry.get("pose_keypoints_2d"), None, f"{where} pose_keypoints_2d")
    if body is None:
        body = np.zeros((COCO_18.num_keypoints, 3))
    if len(body) not in _SKELETONS:
        raise PoseFileError(f"{where}: pose_keypoints_2d has {len(body)} points; 18 (COCO), 25 (BODY_25) or 15 "
                            "(MPI) are known")
    parts = {name: _flat(entry.get(key), n, f"{where} {key}") for name, (key, n) in _PART_KEYS.items()}
    pid = entry.get("person_id", -1)
    pid = pid[0] if isinstance(pid, list) and pid else pid
    return body, parts, int(pid) if isinstance(pid, (int, float)) and math.isfinite(pid) else -1


def _is_normalised(people: list[tuple[np.ndarray, dict[str, np.ndarray | None], int]]) -> bool:
    arrays = [a for body, parts, _ in people for a in (body, *parts.values()) if a is not None]
    present = [a[a[:, 2] > 0, :2] for a in arrays]
    points = np.concatenate(present) if present else np.zeros((0, 2))
    return len(points) > 0 and float(points.max()) <= 1.0


def _frames_of_file(path: Path, size: tuple[int, int] | None) -> list[PoseFrame]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoseFileError(f"cannot read {path}: {exc}") from None
    docs = _documents(doc, str(path))
    parsed = [[_person_arrays(p, f"{path} frame {i} person {j}") for j, p in enumerate(d["people"])]
              for i, d in enumerate(docs)]
    normalised = _is_normalised([p for frame in parsed for p in frame])
    stem = path.stem.removesuffix("_keypoints")
    frames = []
    for i, (d, people) in enumerate(zip(docs, parsed)):
        own = _canvas(d, str(path))
        target = size or own
        if target is None:
            raise PoseFileError(f"{path} does not say its picture size (no canvas_width/canvas_height): give "
                                "--canvas-size WxH")
        source = (1, 1) if normalised else (own or target)
        sx, sy = target[0] / source[0], target[1] / source[1]
        name = f"{stem}_{i:06d}" if len(docs) > 1 else stem
        frames.append(PoseFrame(name, tuple(_scaled(body, parts, pid, sx, sy) for body, parts, pid in people),
                                target))
    return frames


def _scaled(body: np.ndarray, parts: dict[str, np.ndarray | None], pid: int, sx: float, sy: float) -> Person:
    def scale(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a * np.array([sx, sy, 1.0])

    return person_from_arrays(scale(body), _SKELETONS[len(body)], {n: scale(parts[n]) for n in PART_NAMES}, pid)


def read_pose_frames(path: str | Path, size: tuple[int, int] | None = None) -> list[PoseFrame]:
    """The frames of a pose file, or of every ``*.json`` in a folder (by name), in pixels of ``size`` (width,
    height; default: each file's canvas, required for files without one)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if p.is_file())
        if not files:
            raise PoseFileError(f"no .json files in {path}")
    elif path.is_file():
        files = [path]
    else:
        raise PoseFileError(f"no such file or folder: {path}")
    return [frame for f in files for frame in _frames_of_file(f, size)]


def _flat_points(points: Sequence[Any] | None) -> list[float] | None:
    if points is None:
        return None
    return [round(float(v), 3) for k in points
            for v in ((0.0, 0.0, 0.0) if k is None else (k.x, k.y, k.score))]


def comfyui_document(frame: PoseFrame) -> dict[str, Any]:
    """One frame as ComfyUI's POSE_KEYPOINT entry: OpenPose-style people in pixels, with the canvas size; a part not
    asked for is null."""
    people = []
    for person in frame.people:
        entry: dict[str, Any] = {"person_id": [person.track_id],
                                 "pose_keypoints_2d": _flat_points(person.keypoints)}
        for name, (key, _) in _PART_KEYS.items():
            entry[key] = _flat_points(getattr(person, name, None))
        people.append(entry)
    return {"people": people, "canvas_width": frame.size[0], "canvas_height": frame.size[1]}


def write_comfyui_json(path: str | Path, frames: Sequence[PoseFrame]) -> None:
    """All ``frames`` as one ComfyUI POSE_KEYPOINT file (a list, one entry per frame), written atomically."""
    text = json.dumps([comfyui_document(f) for f in frames], indent=1)
    write_bytes_atomic(Path(path), text.encode("utf-8"))
