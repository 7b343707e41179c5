"""3-D ids across frames, and optional One-Euro smoothing of each 3-D track.

:class:`Tracker3D` matches the people of a frame to the live tracks by a minimum-cost assignment (as
:class:`openpose_py.track.PoseTracker` does in 2-D) on a unit-free cost: the mean distance between the shared
keypoints divided by the track's body size (the median distance of its keypoints from their median point), so one
threshold serves metres and millimetres alike. A track unseen for more than ``max_age`` seconds ends. Smoothing reuses
:func:`openpose_py.track.one_euro.smooth` on (K, 3) points (its adaptive cutoff follows the speed in x and y).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..checks import check_all
from ..track.one_euro import FilterState, SmoothingConfig, smooth
from .association import assign_to_people
from .reconstruct import Person3D

__all__ = ["Tracker3DConfig", "Tracker3D"]


@dataclass(frozen=True, slots=True)
class Tracker3DConfig:
    """Attributes:
        max_distance: largest matching cost (mean keypoint distance in body sizes) for a person to continue a track.
        max_age: seconds a track may go unseen and keep its id.
        smoothing: One-Euro parameters (per second, in the calibration's units), or None for no smoothing.
    """

    max_distance: float = 1.0
    max_age: float = 1.0
    smoothing: SmoothingConfig | None = None

    def __post_init__(self) -> None:
        check_all((
            (np.isfinite(self.max_distance) and self.max_distance > 0,
             f"max_distance must be a positive number, got {self.max_distance}"),
            (np.isfinite(self.max_age) and self.max_age >= 0, f"max_age must be a number >= 0, got {self.max_age}"),
        ))


@dataclass
class _Track:
    id: int
    points: np.ndarray  # (K, 3) last position, NaN where never seen
    seen: float
    filter: FilterState | None


def _size(points: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        d = np.linalg.norm(points - np.nanmedian(points, axis=0), axis=1)
        size = float(np.nanmedian(d))
    return size if np.isfinite(size) and size > 0 else np.inf


class Tracker3D:
    """Gives each :class:`Person3D` of a stream of frames a stable ``track_id``."""

    def __init__(self, config: Tracker3DConfig = Tracker3DConfig()) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        self._tracks: list[_Track] = []
        self._next_id = 0

    def _cost(self, people: Sequence[Person3D]) -> np.ndarray:
        cost = np.full((len(self._tracks), len(people)), np.inf)
        for t, track in enumerate(self._tracks):
            size = _size(track.points)
            for p, person in enumerate(people):
                d = np.linalg.norm(track.points - person.points, axis=1)
                if np.isfinite(d).sum() >= 2:
                    cost[t, p] = float(np.nanmean(d)) / size
        return cost

    def update(self, people: Sequence[Person3D], t: float) -> list[Person3D]:
        """The people of the frame at time ``t`` (seconds, increasing) with track ids (and smoothed points)."""
        self._tracks = [tr for tr in self._tracks if t - tr.seen <= self.config.max_age]
        pairs = dict((p, tr) for tr, p in assign_to_people(self._cost(people), self.config.max_distance))
        out = []
        for p, person in enumerate(people):
            if p in pairs:
                track = self._tracks[pairs[p]]
            else:
                track = _Track(self._next_id, person.points, t, None)
                self._next_id += 1
                self._tracks.append(track)
            points = np.array(person.points)
            present = np.isfinite(points).all(axis=1)
            if self.config.smoothing is not None:
                state = track.filter or FilterState(np.zeros_like(points), np.zeros_like(points),
                                                    np.zeros(len(points)), np.zeros(len(points), dtype=bool))
                points, track.filter = smooth(state, np.nan_to_num(points), present, t, self.config.smoothing)
                points = np.where(present[:, None], points, np.nan)
            track.points = np.where(present[:, None], points, track.points)
            track.seen = t
            out.append(person.with_points(points).with_track_id(track.id))
        return out
