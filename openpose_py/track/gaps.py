"""Short gaps in a file's tracks filled in: a tracked person the network missed for a moment (a frame or two) is put
back in the frames between, its keypoints moved linearly in time from where it was last seen to where it is seen
again. A common offline post-process of multi-object trackers; it needs the next detection, so only a source whose
results may come out late (a file, not a live stream) can have it (:class:`~openpose_py.track.stream.Relabeller`
runs it).

A filled-in person is marked by its scores: every keypoint's is half the lower of its two ends' (a keypoint seen at
one end only is carried along with the person's median motion and keeps half that end's score), the person's score
is half the lower of the two; it comes after the detected people of its frame; its hands and face, if asked for, are
not filled in (all points missing).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from ..results import Person, people_from_array

__all__ = ["FILLED_SCORE", "GapFiller", "interpolated"]

#: Share of the two ends' lower score that a filled-in keypoint (and person) is given.
FILLED_SCORE = 0.5
#: Seconds of slack in comparing a gap with the longest one allowed (frame times are floats).
_SLACK = 1e-6


@dataclass
class _Held:
    time: float
    people: list[Person]
    payload: Any


def interpolated(a: Person, b: Person, u: Sequence[float]) -> list[Person]:
    """The people ``u`` (each 0..1) of the way in time from ``a`` to ``b`` (the same track seen twice), none when the
    two share no keypoint (their motion is unknown). Keypoints are those of either end; see the module for scores."""
    pa, pb = a.as_array().astype(np.float64), b.as_array().astype(np.float64)
    ok_a, ok_b = np.isfinite(pa).all(axis=1), np.isfinite(pb).all(axis=1)
    both = ok_a & ok_b
    if not both.any():
        return []
    shift = np.median(pb[both, :2] - pa[both, :2], axis=0)
    start = np.where(ok_a[:, None], pa[:, :2], pb[:, :2] - shift)  # a keypoint seen at one end only moves as a whole
    end = np.where(ok_b[:, None], pb[:, :2], pa[:, :2] + shift)
    score = FILLED_SCORE * np.fmin(np.where(ok_a, pa[:, 2], np.nan), np.where(ok_b, pb[:, 2], np.nan))
    w = np.asarray(u, np.float64)[:, None, None]  # (F, 1, 1): one row of people per frame between
    rows = np.empty((len(w), len(pa), 3))
    rows[..., :2], rows[..., 2] = (1.0 - w) * start + w * end, score
    rows[:, ~(ok_a | ok_b)] = np.nan
    people = people_from_array(rows, a.skeleton, [FILLED_SCORE * min(a.score, b.score)] * len(w))
    parts = {name: np.full((len(points), 3), np.nan) for name in ("left_hand", "right_hand", "face")
             if (points := getattr(a, name)) is not None}
    return [replace(p.with_parts(**parts) if parts else p, track_id=a.track_id) for p in people]


class GapFiller:
    """Holds each frame's final people (ids decided) for ``max_gap`` seconds, and when a track comes back within
    that time of the last frame it was seen in, puts the person in the frames between (:func:`interpolated`).
    ``max_gap`` 0 holds nothing and fills nothing."""

    def __init__(self, max_gap: float) -> None:
        self.max_gap = float(max_gap)
        self._held: deque[_Held] = deque()
        self._last: dict[int, tuple[float, Person]] = {}  # track id -> (time, person) of its last frame

    def push(self, time: float, people: list[Person], payload: Any = None) -> list[tuple[list[Person], Any]]:
        """One frame's final people (at ``time`` seconds, after every earlier push); returns the (people, payload)
        pairs now final, oldest first."""
        if self.max_gap <= 0:
            return [(people, payload)]
        people = list(people)
        for person in people:
            if person.track_id < 0:
                continue
            last = self._last.get(person.track_id)
            if last is not None and time - last[0] <= self.max_gap + _SLACK:
                self._fill(last[0], last[1], time, person)
            self._last[person.track_id] = (time, person)
        self._held.append(_Held(time, people, payload))
        ready = []
        while self._held and time - self._held[0].time > self.max_gap + _SLACK:
            done = self._held.popleft()
            ready.append((done.people, done.payload))
        self._last = {i: seen for i, seen in self._last.items() if time - seen[0] <= self.max_gap + _SLACK}
        return ready

    def _fill(self, t0: float, a: Person, t1: float, b: Person) -> None:
        """Add the interpolated person to each held frame strictly between ``t0`` and ``t1``."""
        between = [frame for frame in self._held if t0 < frame.time < t1]
        if not between:  # seen in consecutive frames: no gap
            return
        for frame, person in zip(between, interpolated(a, b, [(f.time - t0) / (t1 - t0) for f in between])):
            frame.people.append(person)

    def flush(self) -> list[tuple[list[Person], Any]]:
        """Everything still held (the stream has ended), oldest first."""
        out = [(held.people, held.payload) for held in self._held]
        self._held.clear()
        self._last.clear()
        return out
