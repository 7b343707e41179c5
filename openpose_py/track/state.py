"""The tracker's memory: one row per track (live, lost but still re-identifiable, or tentative) in a few arrays, so
that a frame costs a fixed number of numpy calls however many people it holds. Shapes: N tracks, K keypoints, L limbs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .one_euro import FilterState, empty_state
from .parts import PART_POINTS

__all__ = ["Tracks"]


@dataclass
class Tracks:
    """One row per track. ``ids`` is -1 for a tentative track (not yet seen in enough frames to be given an id)."""

    ids: np.ndarray  # (N,) int64
    xy: np.ndarray  # (N, K, 2) positions at the last match (unseen keypoints carried along)
    seen: np.ndarray  # (N, K) bool: keypoint ever observed
    velocity: np.ndarray  # (N, 2) pixels per second
    t: np.ndarray  # (N,) time of the last match
    since: np.ndarray  # (N,) time of the first match
    frame: np.ndarray  # (N,) int64: the update (counted from 1) of the last match
    hits: np.ndarray  # (N,) matches so far
    colour: np.ndarray  # (N, L, 3) mean BGR colour along each limb
    colour_n: np.ndarray  # (N, L) observations behind each colour (0: never seen)
    pending: np.ndarray  # (N,) object: a tentative track's earlier (update, person index) pairs, for relabelling
    filt: FilterState  # (N, K) smoothing memory
    part_filt: FilterState  # (N, PART_POINTS) smoothing memory of the hands and face (track.parts)

    @classmethod
    def empty(cls, k: int, limbs: int) -> "Tracks":
        return cls.new(np.zeros(0, np.int64), np.zeros((0, k, 2)), np.zeros((0, k), bool), 0.0, 0,
                       np.zeros((0, limbs, 3), np.float32), np.zeros((0, limbs), np.float32))

    @classmethod
    def new(cls, ids: np.ndarray, xy: np.ndarray, seen: np.ndarray, t: float, frame: int, colour: np.ndarray,
            colour_n: np.ndarray) -> "Tracks":
        """Tracks just started from one observation each, at rest."""
        n, k = seen.shape
        pending = np.empty(n, object)
        for i in range(n):
            pending[i] = []
        return cls(ids, xy, seen, np.zeros((n, 2)), np.full(n, t), np.full(n, t), np.full(n, frame, np.int64),
                   np.ones(n, np.int64), colour, colour_n, pending, empty_state((n, k)), empty_state((n, PART_POINTS)))

    def select(self, rows: np.ndarray) -> "Tracks":
        return Tracks(*(FilterState(*(a[rows] for a in v)) if isinstance(v, FilterState) else v[rows]
                        for v in self._values()))

    def extend(self, other: "Tracks") -> "Tracks":
        cat = np.concatenate
        return Tracks(*(FilterState(*(cat([a, b]) for a, b in zip(v, w))) if isinstance(v, FilterState)
                        else cat([v, w]) for v, w in zip(self._values(), other._values())))

    def _values(self) -> list:
        return [getattr(self, name) for name in _FIELDS]


_FIELDS = tuple(f.name for f in fields(Tracks))
