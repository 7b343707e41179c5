"""A tracked person's hands and face as one block of points, so that the tracker smooths them with their person.

The block is the left hand's 21 points, the right hand's 21 and the face's 70 (:data:`openpose_py.skeleton.PARTS`
order): :data:`PART_POINTS` rows per person, NaN where a point is missing or its part was not asked for.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np

from ..results import Keypoint, Person
from ..skeleton import PARTS

__all__ = ["PART_POINTS", "has_parts", "parts_array", "with_parts_at"]

#: Points in a person's block of parts (hands and face together).
PART_POINTS = sum(table.num_keypoints for table in PARTS.values())
_ENDS = np.cumsum([table.num_keypoints for table in PARTS.values()])
_MISSING = (np.nan, np.nan, np.nan)
_SPANS = {name: slice(int(end) - table.num_keypoints, int(end)) for (name, table), end in zip(PARTS.items(), _ENDS)}


def has_parts(people: Sequence[Person]) -> bool:
    """Whether any of ``people`` carries a hand or a face (else there is nothing to smooth)."""
    return any(getattr(p, name) is not None for p in people for name in PARTS)


def parts_array(people: Sequence[Person]) -> np.ndarray:
    """(P, :data:`PART_POINTS`, 3) x, y, score of every person's parts, NaN where missing or not asked for."""
    rows = [_MISSING if k is None else (k.x, k.y, k.score)
            for p in people for name, table in PARTS.items()
            for k in (getattr(p, name) or (None,) * table.num_keypoints)]
    return np.array(rows, dtype=np.float64).reshape(len(people), PART_POINTS, 3)


def with_parts_at(person: Person, xy: np.ndarray) -> Person:
    """``person`` with the present points of its parts moved to ``xy`` (:data:`PART_POINTS`, 2); scores kept, parts
    not asked for stay None."""
    moved = {name: tuple(None if k is None else Keypoint(k.name, x, y, k.score)
                         for k, (x, y) in zip(points, xy[_SPANS[name]].tolist()))
             for name in PARTS if (points := getattr(person, name)) is not None}
    return replace(person, **moved) if moved else person
