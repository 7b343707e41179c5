"""Multi-person pose tracking: :class:`PoseTracker` gives the people of each frame stable ids.

Each frame, every live track's keypoints are moved forward at its constant velocity (:mod:`.motion`), compared with
the frame's people by OKS (:mod:`.similarity`) and matched one-to-one by the Hungarian method
(``scipy.optimize.linear_sum_assignment``). A person that continues no track starts a new one with the next id; a
track unseen for more than ``max_age`` seconds ends. Ids are never reused within a stream (until :meth:`reset`).
Optionally each track's keypoints are smoothed by a One-Euro filter (:mod:`.one_euro`). All per-track state lives in
arrays with one row per track, so a frame costs a fixed number of numpy calls however many people it holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..results import Keypoint, Person
from ..skeleton import Skeleton
from .motion import observe, predict
from .one_euro import FilterState, SmoothingConfig, empty_state, smooth
from .similarity import keypoint_box_area, oks_matrix

__all__ = ["TrackerConfig", "PoseTracker"]


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """How tracks are matched, kept and ended.

    Attributes:
        max_age: seconds a track survives without being matched (occlusion, missed detections); then it ends.
        min_similarity: OKS (against the track's predicted pose) below which a person never continues a track.
        velocity_weight: weight of each new velocity measurement against the track's running velocity (0..1].
        motion: predict where each track is now at its constant velocity (off: compare with its last position).
    """

    max_age: float = 1.0
    min_similarity: float = 0.1
    velocity_weight: float = 0.5
    motion: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_age) and self.max_age >= 0):
            raise ValueError(f"TrackerConfig.max_age must be >= 0 seconds, got {self.max_age}")
        if not 0.0 <= self.min_similarity < 1.0:
            raise ValueError(f"TrackerConfig.min_similarity must be in [0, 1), got {self.min_similarity}")
        if not 0.0 < self.velocity_weight <= 1.0:
            raise ValueError(f"TrackerConfig.velocity_weight must be in (0, 1], got {self.velocity_weight}")


@dataclass
class _Tracks:
    """One row per live track."""

    ids: np.ndarray  # (N,) int64
    xy: np.ndarray  # (N, K, 2) positions at the last match (unseen keypoints carried along)
    seen: np.ndarray  # (N, K) bool: keypoint ever observed
    velocity: np.ndarray  # (N, 2) pixels per second
    t: np.ndarray  # (N,) time of the last match
    hits: np.ndarray  # (N,) matches so far
    filt: FilterState  # (N, K) smoothing memory

    @classmethod
    def empty(cls, k: int) -> "_Tracks":
        return cls(np.zeros(0, np.int64), np.zeros((0, k, 2)), np.zeros((0, k), bool), np.zeros((0, 2)),
                   np.zeros(0), np.zeros(0, np.int64), empty_state((0, k)))

    def select(self, rows: np.ndarray) -> "_Tracks":
        return _Tracks(self.ids[rows], self.xy[rows], self.seen[rows], self.velocity[rows], self.t[rows],
                       self.hits[rows], FilterState(*(a[rows] for a in self.filt)))

    def extend(self, other: "_Tracks") -> "_Tracks":
        cat = np.concatenate
        return _Tracks(cat([self.ids, other.ids]), cat([self.xy, other.xy]), cat([self.seen, other.seen]),
                       cat([self.velocity, other.velocity]), cat([self.t, other.t]), cat([self.hits, other.hits]),
                       FilterState(*(cat([a, b]) for a, b in zip(self.filt, other.filt))))


class PoseTracker:
    """Stable ids (and optionally smoothed keypoints) for the people of a stream of frames.

    >>> tracker = PoseTracker(COCO_18, TrackerConfig(max_age=1.0), smoothing=SmoothingConfig())  # doctest: +SKIP
    >>> people = tracker.update(estimator(frame), timestamp=frame_index / fps)  # doctest: +SKIP

    Args:
        skeleton: the skeleton of the people that will be fed.
        config: matching and track-lifetime settings.
        smoothing: One-Euro settings to smooth each track's keypoints with, or None to leave them as detected.
    """

    def __init__(self, skeleton: Skeleton, config: TrackerConfig = TrackerConfig(),
                 smoothing: SmoothingConfig | None = None) -> None:
        self.skeleton = skeleton
        self.config = config
        self.smoothing = smoothing
        self._sigmas = skeleton.oks_sigmas
        self.reset()

    def reset(self) -> None:
        """Forget every track and start a new stream: ids start again at 0."""
        self._tracks = _Tracks.empty(self.skeleton.num_keypoints)
        self._next_id = 0
        self._time: float | None = None

    @property
    def active_ids(self) -> list[int]:
        """Ids of the tracks alive after the last update (matched now or recently)."""
        return [int(i) for i in self._tracks.ids]

    def update(self, people: Sequence[Person], timestamp: float) -> list[Person]:
        """Match the people of one frame to the tracks and return them, in the same order, with ``track_id`` set.

        Args:
            people: the frame's people (any order), all of this tracker's skeleton.
            timestamp: the frame's time in seconds; must increase from call to call.

        Returns:
            The same people with ``track_id >= 0``, keypoints smoothed if smoothing is on (scores untouched).
        """
        t = float(timestamp)
        if not math.isfinite(t):
            raise ValueError(f"timestamp must be a finite number of seconds, got {timestamp}")
        if self._time is not None and t <= self._time:
            raise ValueError(f"timestamps must increase: {t} after {self._time}")
        if isinstance(people, Person):
            raise TypeError("people must be a list of Person: pass [person] for one")
        people = list(people)  # once: a generator would be used up by the checks
        for p in people:
            if not isinstance(p, Person):
                raise TypeError(f"people must be a list of Person, got a {type(p).__name__} in it")
            if p.skeleton is not self.skeleton:
                raise ValueError(f"tracker is for {self.skeleton.name}, got a {p.skeleton.name} person")
        previous, self._time = self._time, t  # after every check: a refused call changes nothing
        k = self.skeleton.num_keypoints
        tracks = self._tracks
        alive = t - tracks.t <= self.config.max_age
        if not alive.all():
            tracks = tracks.select(alive)
        det = _as_array(people, k)
        # a point with any value NaN or infinite (a hand-made Person, say) is missing: it must not reach the tracks
        det_ok = np.isfinite(det).all(axis=-1) & (det[..., 2] > 0)
        det_xy = np.where(det_ok[..., None], det[..., :2], 0.0)
        rows, cols = self._associate(tracks, det_xy, det_ok, t)

        # continued tracks
        dt = t - tracks.t[rows]
        weight = np.where(tracks.hits[rows] == 1, 1.0, self.config.velocity_weight)
        xy, velocity = observe(tracks.xy[rows], tracks.seen[rows], tracks.velocity[rows], dt, det_xy[cols],
                               det_ok[cols], weight)
        tracks.xy[rows], tracks.velocity[rows] = xy, velocity
        tracks.seen[rows] |= det_ok[cols]
        tracks.t[rows] = t
        tracks.hits[rows] += 1
        # new tracks for everyone else
        unmatched = np.ones(len(people), bool)
        unmatched[cols] = False
        fresh = np.flatnonzero(unmatched)
        n = len(fresh)
        first_new = len(tracks.ids)
        if n:
            born = _Tracks(np.arange(self._next_id, self._next_id + n, dtype=np.int64), det_xy[fresh], det_ok[fresh],
                           np.zeros((n, 2)), np.full(n, t), np.ones(n, np.int64), empty_state((n, k)))
            self._next_id += n
            tracks = tracks.extend(born)
        self._tracks = tracks

        track_of = np.empty(len(people), np.int64)
        track_of[cols] = rows
        track_of[fresh] = np.arange(first_new, first_new + n)
        if self.smoothing is None:
            return [p.with_track_id(int(i)) for p, i in zip(people, tracks.ids[track_of])]
        state = FilterState(*(a[track_of] for a in tracks.filt))
        # a keypoint missing from the previous frame (or its whole person was) restarts rather than slide from there
        state = state._replace(alive=state.alive & (state.t >= (t if previous is None else previous)))
        smoothed, state = smooth(state, det_xy, det_ok, t, self.smoothing)
        for mine, new in zip(tracks.filt, state):
            mine[track_of] = new
        return [_moved(p, int(i), xy) for p, i, xy in zip(people, tracks.ids[track_of], smoothed)]

    def _associate(self, tracks: _Tracks, det_xy: np.ndarray, det_ok: np.ndarray,
                   t: float) -> tuple[np.ndarray, np.ndarray]:
        """(track rows, detection indices) matched one-to-one, each pair at least ``min_similarity`` alike."""
        if len(tracks.ids) == 0 or len(det_xy) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        expected = predict(tracks.xy, tracks.velocity, t - tracks.t) if self.config.motion else tracks.xy
        sim = oks_matrix(expected, tracks.seen, det_xy, det_ok, self._sigmas,
                         keypoint_box_area(tracks.xy, tracks.seen))
        rows, cols = linear_sum_assignment(sim, maximize=True)
        good = sim[rows, cols] >= max(self.config.min_similarity, 1e-9)
        return rows[good].astype(np.int64), cols[good].astype(np.int64)


def _moved(person: Person, track_id: int, xy: np.ndarray) -> Person:
    """``person`` with id ``track_id`` and its present keypoints at ``xy`` (K, 2); scores unchanged. Its hands and
    face go with it as they were found (they are not smoothed)."""
    keypoints = tuple([None if kp is None else Keypoint(kp.name, x, y, kp.score)
                       for kp, (x, y) in zip(person.keypoints, xy.tolist())])
    return replace(person, keypoints=keypoints, track_id=track_id)


_MISSING = (np.nan, np.nan, np.nan)


def _as_array(people: Sequence[Person], k: int) -> np.ndarray:
    """(P, K, 3) x, y, score of ``people``, NaN where missing (one array build for everyone)."""
    rows = [_MISSING if kp is None else (kp.x, kp.y, kp.score) for p in people for kp in p.keypoints]
    return np.array(rows, dtype=np.float64).reshape(len(people), k, 3)
