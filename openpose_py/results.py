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
from .skeleton import PARTS, Skeleton

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
# Per-person keys after pose_keypoints_2d, in OpenPose's order, with the Person field each one holds; 3D is never
# computed here (always []), a 2D part is [] when it was not asked for.
_PART_KEYS = (("face_keypoints_2d", "face"), ("hand_left_keypoints_2d", "left_hand"),
              ("hand_right_keypoints_2d", "right_hand"))
_DISABLED_MODULE_KEYS = ("pose_keypoints_3d", "face_keypoints_3d", "hand_left_keypoints_3d", "hand_right_keypoints_3d")

#: One part's points (a hand's 21, the face's 70) in OpenPose's order, None where not found; the part itself is None
#: when it was not asked for.
PartPoints = tuple["Keypoint | None", ...]


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
    """One person: keypoints in skeleton order (None where missing) and an overall score.

    ``left_hand``, ``right_hand`` (21 points each, :data:`~openpose_py.skeleton.HAND_21`) and ``face`` (70 points,
    :data:`~openpose_py.skeleton.FACE_70`) are None when that part was not asked for, and a full-length tuple with None
    entries where the part was asked for but (some of) its points were not found. Left and right are the person's own.
    """

    keypoints: tuple[Keypoint | None, ...]
    score: float
    skeleton: Skeleton = field(repr=False)
    track_id: int = -1
    left_hand: PartPoints | None = field(default=None, repr=False)
    right_hand: PartPoints | None = field(default=None, repr=False)
    face: PartPoints | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if len(self.keypoints) != self.skeleton.num_keypoints:
            raise ValueError(
                f"{self.skeleton.name} person needs {self.skeleton.num_keypoints} keypoints, got {len(self.keypoints)}"
            )
        for part, table in PARTS.items():
            points = getattr(self, part)
            if points is not None and len(points) != table.num_keypoints:
                raise ValueError(f"{part} needs {table.num_keypoints} keypoints ({table.name}), got {len(points)}")

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
        return _points_array(self.keypoints)

    def part_array(self, part: str) -> np.ndarray | None:
        """``part`` (``"left_hand"``, ``"right_hand"`` or ``"face"``) as an (N, 3) float32 array of x, y, score, NaN
        where a point is missing; None when the part was not asked for."""
        if part not in PARTS:
            raise ValueError(f"unknown part {part!r}; known: {', '.join(PARTS)}")
        points = getattr(self, part)
        return None if points is None else _points_array(points)

    def with_parts(self, **parts: np.ndarray | None) -> "Person":
        """The same person with parts set from (N, 3) arrays of x, y, score (NaN or score <= 0: missing) or None."""
        unknown = set(parts) - set(PARTS)
        if unknown:
            raise ValueError(f"unknown part {sorted(unknown)[0]!r}; known: {', '.join(PARTS)}")
        return replace(self, **{name: None if a is None else _points_from_array(a, PARTS[name].keypoints)
                                for name, a in parts.items()})

    def with_track_id(self, track_id: int) -> "Person":
        return replace(self, track_id=track_id)

    def transformed(self, sx: float, sy: float, dx: float = 0.0, dy: float = 0.0) -> "Person":
        """The same person with every point mapped by ``x * sx + dx``, ``y * sy + dy``."""
        def move(points: PartPoints | None) -> PartPoints | None:
            return None if points is None else tuple(
                None if k is None else Keypoint(k.name, k.x * sx + dx, k.y * sy + dy, k.score) for k in points)

        return replace(self, keypoints=move(self.keypoints), left_hand=move(self.left_hand),
                       right_hand=move(self.right_hand), face=move(self.face))

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
        return _flat(self.keypoints, scale, offset)

    def part_keypoints_2d(self, part: str, scale: tuple[float, float] = (1.0, 1.0),
                          offset: float = 0.0) -> list[float]:
        """OpenPose's flat list for a part (``face_keypoints_2d`` ...): ``[]`` when the part was not asked for,
        ``0, 0, 0`` for each point not found."""
        if part not in PARTS:
            raise ValueError(f"unknown part {part!r}; known: {', '.join(PARTS)}")
        points = getattr(self, part)
        return [] if points is None else _flat(points, scale, offset)


def _flat(points: PartPoints, scale: tuple[float, float], offset: float) -> list[float]:
    flat: list[float] = []
    for k in points:
        if k is None:
            flat += [0.0, 0.0, 0.0]
        else:
            flat += [_num(k.x * scale[0] + offset), _num(k.y * scale[1] + offset), _num(k.score)]
    return flat


def _points_array(points: PartPoints) -> np.ndarray:
    out = np.full((len(points), 3), np.nan, dtype=np.float32)
    for i, k in enumerate(points):
        if k is not None:
            out[i] = (k.x, k.y, k.score)
    return out


def _points_from_array(array: np.ndarray, names: Sequence[str]) -> PartPoints:
    """(N, 3) x, y, score -> points named ``names``; a row with a NaN/inf value or a score <= 0 is missing."""
    array = np.asarray(array, dtype=np.float64)
    if array.shape != (len(names), 3):
        raise ValueError(f"expected ({len(names)}, 3) points, got {array.shape}")
    found = np.isfinite(array).all(axis=1) & (array[:, 2] > 0)
    return tuple(Keypoint(n, float(x), float(y), float(c)) if ok else None
                 for n, (x, y, c), ok in zip(names, array.tolist(), found))


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
        for key, part in _PART_KEYS:
            entry[key] = person.part_keypoints_2d(part, scale, offset)
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

    Keypoints with confidence 0 become None; the person score is the mean confidence of the present keypoints. Faces
    and hands are kept (None where the file's array is empty, i.e. the part was off).
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
        person = Person(kps, float(present.mean()) if len(present) else 0.0, skeleton, int(pid[0]) if pid else -1)
        people.append(person.with_parts(**{part: _read_part(path, entry, key, part) for key, part in _PART_KEYS}))
    return people


def _read_part(path: str | Path, entry: Mapping[str, Any], key: str, part: str) -> np.ndarray | None:
    flat = entry.get(key) or []
    if not flat:
        return None
    n = PARTS[part].num_keypoints
    if len(flat) != 3 * n:
        raise ValueError(f"{path}: {key} has {len(flat)} numbers, {PARTS[part].name} needs {3 * n}")
    return np.asarray(flat, dtype=np.float64).reshape(n, 3)


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
