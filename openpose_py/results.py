"""Typed, frozen pose results and their serialisations (OpenPose JSON 1.3, COCO results)."""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .atomic import write_bytes_atomic
from .skeleton import Skeleton

__all__ = [
    "Keypoint",
    "Person",
    "people_from_array",
    "openpose_json",
    "format_openpose_json",
    "write_openpose_json",
    "read_openpose_json",
    "coco_results",
    "OPENPOSE_JSON_VERSION",
]

OPENPOSE_JSON_VERSION = 1.3
# Per-person keys after pose_keypoints_2d, in OpenPose's order; this project has no face/hand modules (always []).
_DISABLED_MODULE_KEYS = (
    "face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d",
    "pose_keypoints_3d", "face_keypoints_3d", "hand_left_keypoints_3d", "hand_right_keypoints_3d",
)


@dataclass(frozen=True, slots=True)
class Keypoint:
    """One detected body part, in source-image pixels."""

    name: str
    x: float
    y: float
    score: float


_NOT_ITERABLE = ("a Person is not iterable: use person.keypoints (skeleton order) or person[name]; where a list of "
                 "people is expected, pass [person]")


@dataclass(frozen=True, slots=True)
class Person:
    """One person: keypoints in skeleton order (None where missing) and an overall score."""

    keypoints: tuple[Keypoint | None, ...]
    score: float
    skeleton: Skeleton = field(repr=False)
    track_id: int = -1

    def __post_init__(self) -> None:
        if len(self.keypoints) != self.skeleton.num_keypoints:
            raise ValueError(
                f"{self.skeleton.name} person needs {self.skeleton.num_keypoints} keypoints, got {len(self.keypoints)}"
            )

    def __getitem__(self, name: str) -> Keypoint | None:
        return self.keypoints[self.skeleton.index(name)]

    def __iter__(self):
        # without it Python would iterate through __getitem__ with 0, 1, ... and fail on an unknown keypoint name
        raise TypeError(_NOT_ITERABLE)

    def __contains__(self, item: object) -> bool:
        raise TypeError(_NOT_ITERABLE)

    def __len__(self) -> int:
        return len(self.keypoints)

    @property
    def num_parts(self) -> int:
        return sum(k is not None for k in self.keypoints)

    def as_array(self) -> np.ndarray:
        """(K, 3) float32 array of x, y, score; NaN where a keypoint is missing."""
        out = np.full((len(self.keypoints), 3), np.nan, dtype=np.float32)
        for i, k in enumerate(self.keypoints):
            if k is not None:
                out[i] = (k.x, k.y, k.score)
        return out

    def with_track_id(self, track_id: int) -> "Person":
        return replace(self, track_id=track_id)

    def transformed(self, sx: float, sy: float, dx: float = 0.0, dy: float = 0.0) -> "Person":
        """The same person with every point mapped by ``x * sx + dx``, ``y * sy + dy``."""
        kps = tuple(None if k is None else Keypoint(k.name, k.x * sx + dx, k.y * sy + dy, k.score)
                    for k in self.keypoints)
        return replace(self, keypoints=kps)

    def bbox(self) -> tuple[float, float, float, float] | None:
        """Tight (x0, y0, x1, y1) box around the present keypoints, or None."""
        pts = [(k.x, k.y) for k in self.keypoints if k is not None]
        if not pts:
            return None
        xs, ys = zip(*pts)
        return min(xs), min(ys), max(xs), max(ys)

    def to_coco17(self) -> np.ndarray:
        """(17, 3) array in COCO dataset order: x, y, visibility flag 2 where present (else 0, 0, 0)."""
        order = self.skeleton.coco17
        if order is None:
            raise ValueError(f"{self.skeleton.name} has no COCO-17 correspondence")
        out = np.zeros((17, 3), dtype=np.float64)
        for slot, idx in enumerate(order):
            k = self.keypoints[idx]
            if k is not None:
                out[slot] = (k.x, k.y, 2.0)
        return out

    def pose_keypoints_2d(self, scale: tuple[float, float] = (1.0, 1.0), offset: float = 0.0) -> list[float]:
        """OpenPose's flat ``[x0, y0, c0, ...]``; missing points are ``0, 0, 0``.

        ``scale``/``offset`` express OpenPose's --keypoint_scale: x * sx + offset (for [-1, 1] ranges).
        """
        flat: list[float] = []
        for k in self.keypoints:
            if k is None:
                flat += [0.0, 0.0, 0.0]
            else:
                flat += [_num(k.x * scale[0] + offset), _num(k.y * scale[1] + offset), _num(k.score)]
        return flat


def _num(v: float) -> float:
    """A JSON-safe number rounded like OpenPose's writer (6 significant digits)."""
    if not math.isfinite(v):
        return 0.0
    return float(f"{v:.6g}")


def people_from_array(array: np.ndarray, skeleton: Skeleton, scores: Sequence[float] | None = None) -> list[Person]:
    """Build people from an array (P, K, 3) of x, y, score; rows with score <= 0, or any value NaN or infinite, become
    missing points."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 3 or array.shape[1:] != (skeleton.num_keypoints, 3):
        raise ValueError(f"expected (P, {skeleton.num_keypoints}, 3), got {array.shape}")
    if scores is not None and len(scores) != len(array):
        raise ValueError(f"expected one score per person ({len(array)}), got {len(scores)}")
    found = np.isfinite(array).all(axis=2) & (array[..., 2] > 0)  # one test for every point
    people = []
    for p, rows in enumerate(array):
        kps = tuple(
            Keypoint(name, float(x), float(y), float(c)) if ok else None
            for name, (x, y, c), ok in zip(skeleton.keypoints, rows, found[p])
        )
        score = float(scores[p]) if scores is not None else float(np.nansum(rows[:, 2]))
        people.append(Person(kps, score, skeleton))
    return people


def openpose_json(
    people: Iterable[Person],
    *,
    part_candidates: Sequence[np.ndarray] | None = None,
    scale: tuple[float, float] = (1.0, 1.0),
    offset: float = 0.0,
) -> dict[str, Any]:
    """The OpenPose 1.3 JSON document for one frame, as a dict whose key order is OpenPose's.

    Args:
        part_candidates: per keypoint, an (M, 3) array of all peaks (x, y, score) in image pixels; written only if given.
        scale, offset: coordinate transform for OpenPose's --keypoint_scale modes (pixels: (1, 1), 0).
    """
    doc: dict[str, Any] = {"version": OPENPOSE_JSON_VERSION, "people": []}
    for person in people:
        entry: dict[str, Any] = {
            "person_id": [int(person.track_id)],
            "pose_keypoints_2d": person.pose_keypoints_2d(scale, offset),
        }
        for key in _DISABLED_MODULE_KEYS:
            entry[key] = []
        doc["people"].append(entry)
    if part_candidates is not None:
        cands: dict[str, list[float]] = {}
        for k, peaks in enumerate(part_candidates):
            flat: list[float] = []
            for x, y, c in np.asarray(peaks, dtype=np.float64).reshape(-1, 3):
                flat += [_num(x * scale[0] + offset), _num(y * scale[1] + offset), _num(c)]
            cands[str(k)] = flat
        doc["part_candidates"] = [cands]
    return doc


def _format_number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"not a JSON number: {value!r}")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    # C++ streams print floats with 6 significant digits and no trailing zeros, which is what %g does
    return f"{float(value):.6g}" if np.isfinite(value) else "0"


def format_openpose_json(doc: Any) -> str:
    """Serialise an :func:`openpose_json` document byte-for-byte as OpenPose writes it.

    Compact (no spaces, no trailing newline), numbers with 6 significant digits (``0`` not ``0.0``), keys in the
    dict's order.
    """
    if isinstance(doc, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{format_openpose_json(v)}" for k, v in doc.items()) + "}"
    if isinstance(doc, (list, tuple)):
        return "[" + ",".join(format_openpose_json(v) for v in doc) + "]"
    if isinstance(doc, str):
        return json.dumps(doc)
    return _format_number(doc)



def write_openpose_json(path: str | Path, doc: Any) -> None:
    """Write an OpenPose JSON document (:func:`format_openpose_json`) atomically, or raise ``OutputError``."""
    write_bytes_atomic(Path(path), format_openpose_json(doc).encode("ascii"))


def read_openpose_json(path: str | Path, skeleton: Skeleton) -> list[Person]:
    """Load an OpenPose JSON file (ours or the official binary's) into people of ``skeleton``.

    Keypoints with confidence 0 become None; the person score is the mean confidence of the present keypoints.
    """
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read OpenPose JSON {path}: {exc}") from exc
    if not isinstance(doc, dict) or "people" not in doc:
        raise ValueError(f"{path} is not an OpenPose keypoints file (no 'people' key)")
    people = []
    for entry in doc["people"]:
        flat = entry.get("pose_keypoints_2d", [])
        if len(flat) != 3 * skeleton.num_keypoints:
            raise ValueError(
                f"{path}: pose_keypoints_2d has {len(flat)} numbers, {skeleton.name} needs {3 * skeleton.num_keypoints}"
            )
        rows = np.asarray(flat, dtype=np.float64).reshape(-1, 3)
        kps = tuple(Keypoint(n, float(x), float(y), float(c)) if c > 0 else None
                    for n, (x, y, c) in zip(skeleton.keypoints, rows))
        present = rows[rows[:, 2] > 0, 2]
        pid = entry.get("person_id", [-1])
        people.append(Person(kps, float(present.mean()) if len(present) else 0.0, skeleton,
                             int(pid[0]) if pid else -1))
    return people


def coco_results(people: Iterable[Person], image_id: int) -> list[dict[str, Any]]:
    """COCO keypoint results entries (COCO-17 order, ``category_id`` 1) for one image."""
    out = []
    for person in people:
        kps = person.to_coco17()
        kps[~np.isfinite(kps).all(axis=1)] = 0.0  # a point with a NaN is missing (NaN is not JSON)
        kps[:, 2] = np.where(kps[:, 2] > 0, 1.0, 0.0)
        out.append({
            "image_id": int(image_id),
            "category_id": 1,
            "keypoints": [round(float(v), 3) for v in kps.reshape(-1)],
            "score": float(person.score),
        })
    return out
