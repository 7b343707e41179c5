"""Pose results shaped like controlnet_aux's (``Keypoint``, ``BodyResult``, ``PoseResult``: named tuples with
coordinates normalised to 0..1 by the picture's width and height) and the conversion from this package's
:class:`~openpose_py.results.Person` (source-image pixels).

The body is always the 18 points of OpenPose's COCO model (:data:`~openpose_py.skeleton.COCO_18`), taken by name from
whatever skeleton a person has (BODY_25 keeps its 18 shared points; a point the skeleton lacks is None). A hand is 21
points, a face 70 (OpenPose's 68 landmarks and two pupils); a point not found inside a part that was found is
``Keypoint(-1.0, -1.0, 0.0)``, as controlnet_aux marks it (its drawing skips points left of or above the picture).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from ..results import Keypoint as PixelKeypoint
from ..results import Person, people_from_array
from ..skeleton import COCO_18, Skeleton

__all__ = ["Keypoint", "BodyResult", "PoseResult", "pose_result", "pose_results", "BODY_NAMES", "PART_NAMES",
           "MISSING", "person_from_arrays"]

#: The body points of a :class:`BodyResult`, in its order (OpenPose's COCO 18).
BODY_NAMES: tuple[str, ...] = COCO_18.keypoints
#: The optional parts of a :class:`PoseResult` (and of a Person), in drawing order.
PART_NAMES: tuple[str, ...] = ("left_hand", "right_hand", "face")


class Keypoint(NamedTuple):
    """One point, x and y as fractions of the picture's width and height."""

    x: float
    y: float
    score: float = 1.0
    id: int = -1


class BodyResult(NamedTuple):
    """The 18 body points (None where missing), the person's score and the number of points found."""

    keypoints: list[Keypoint | None]
    total_score: float
    total_parts: int


class PoseResult(NamedTuple):
    """One person: the body, and each hand and the face as a list of points (None when not asked for or not found)."""

    body: BodyResult
    left_hand: list[Keypoint] | None
    right_hand: list[Keypoint] | None
    face: list[Keypoint] | None


#: A point of a found hand or face that was not itself found.
MISSING = Keypoint(-1.0, -1.0, 0.0)


def _body_index(skeleton: Skeleton) -> list[int | None]:
    names = skeleton.keypoints
    return [names.index(n) if n in names else None for n in BODY_NAMES]


def _part(points: Sequence[PixelKeypoint | None] | None, width: float, height: float) -> list[Keypoint] | None:
    if points is None or all(k is None for k in points):
        return None
    return [MISSING if k is None else Keypoint(k.x / width, k.y / height, k.score) for k in points]


def pose_result(person: Person, width: int, height: int, first_id: int = 0) -> PoseResult:
    """``person`` (pixels of a ``width`` x ``height`` picture) as a :class:`PoseResult`; its body points take the
    ids ``first_id``, ``first_id + 1``, ... in body order."""
    w, h = float(width), float(height)
    body: list[Keypoint | None] = []
    next_id = first_id
    for idx in _body_index(person.skeleton):
        k = None if idx is None else person.keypoints[idx]
        if k is None:
            body.append(None)
            continue
        body.append(Keypoint(k.x / w, k.y / h, k.score, next_id))
        next_id += 1
    found = sum(k is not None for k in body)
    parts = [_part(getattr(person, name, None), w, h) for name in PART_NAMES]
    return PoseResult(BodyResult(body, float(person.score), found), *parts)


def pose_results(people: Sequence[Person], width: int, height: int) -> list[PoseResult]:
    """Every person as a :class:`PoseResult`; body point ids run through the picture, unique to each point."""
    out = []
    first = 0
    for person in people:
        pose = pose_result(person, width, height, first)
        first += pose.body.total_parts
        out.append(pose)
    return out


def person_from_arrays(body: np.ndarray, skeleton: Skeleton, parts: dict[str, np.ndarray | None] | None = None,
                       track_id: int = -1) -> Person:
    """A Person (pixels) from a (K, 3) body array of x, y, score and optional (N, 3) part arrays (score <= 0 or a
    negative coordinate: missing). Parts are kept only where the Person type has them."""
    person = people_from_array(np.asarray(body, dtype=np.float64)[None], skeleton)[0].with_track_id(track_id)
    wanted = {name: _clean(a) for name, a in (parts or {}).items() if a is not None and name in PART_NAMES}
    if wanted and hasattr(person, "with_parts"):
        person = person.with_parts(**wanted)
    return person


def _clean(points: np.ndarray) -> np.ndarray:
    points = np.array(points, dtype=np.float64, copy=True)
    points[(points[:, 0] < 0) | (points[:, 1] < 0), 2] = 0.0
    return points
