"""Multi-person pose tracking: :class:`PoseTracker` gives the people of each frame stable ids.

Each frame, every live track's keypoints are moved forward at its constant velocity (:mod:`.motion`), compared with
the frame's people by OKS (:mod:`.similarity`, with a pixel tolerance so that small, far people keep their tracks)
blended with how alike their limb colours are (:mod:`.appearance`, when the frame image is given), and matched
one-to-one by the Hungarian method (:mod:`.association`). A person that continues no track (and is not merely a piece
of another person found twice, :func:`.similarity.duplicates`) starts a *tentative* track, which gets an id only once
it has been matched in ``min_hits`` consecutive frames (a one-frame false detection never gets one;
:attr:`PoseTracker.relabelled` says which earlier people a confirmed track covered, so that a file's earlier frames
can be labelled too). At confirmation a track is first compared, by appearance, with the lost tracks (unseen for at
most ``reid_time`` seconds, near where they were last seen): a returning person gets its id back, anyone else the next
new id. Ids are never given to two people (until :meth:`reset`). Optionally each track's keypoints, hands and face are
smoothed by a One-Euro filter (:mod:`.one_euro`, :mod:`.parts`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Sequence

import numpy as np

from ..results import Keypoint, Person
from ..skeleton import Skeleton
from .appearance import limb_colours
from .association import match_live, match_lost, undecided
from .motion import observe
from .one_euro import FilterState, SmoothingConfig, smooth
from .similarity import duplicates
from .parts import has_parts, parts_array, with_parts_at
from .config import TrackerConfig
from .state import Tracks

__all__ = ["TrackerConfig", "PoseTracker", "VELOCITY_DT"]

#: Shortest gap (seconds) a velocity is measured over: a frame closer than this to the track's last one (timestamps
#: a millisecond apart) moves the track but leaves its velocity, so that a pixel of noise over a millisecond is not
#: taken as a thousand pixels per second (every frame rate up to 100 frames/s measures at every frame).
VELOCITY_DT = 0.01
#: Seconds a new track near a lost one waits for its appearance (hidden limbs, or colours in doubt: see
#: :func:`.association.undecided`) before it is confirmed without re-identification.
APPEARANCE_WAIT = 1.0
#: How much a new clean observation of a limb's colour counts against the track's running colour.
COLOUR_WEIGHT = 0.2


class PoseTracker:
    """Stable ids (and optionally smoothed keypoints) for the people of a stream of frames.

    >>> tracker = PoseTracker(COCO_18, TrackerConfig(max_age=1.0), smoothing=SmoothingConfig())  # doctest: +SKIP
    >>> people = tracker.update(estimator(frame), timestamp=frame_index / fps, image=frame)  # doctest: +SKIP

    Args:
        skeleton: the skeleton of the people that will be fed.
        config: matching and track-lifetime settings.
        smoothing: One-Euro settings to smooth each track's keypoints with, or None to leave them as detected.
    """

    def __init__(self, skeleton: Skeleton, config: TrackerConfig = TrackerConfig(),
                 smoothing: SmoothingConfig | None = None) -> None:
        if not isinstance(config, TrackerConfig):
            raise TypeError(f"config must be a TrackerConfig, got {type(config).__name__}")
        self.skeleton = skeleton
        self.config = config
        self.smoothing = smoothing
        self._sigmas = skeleton.oks_sigmas
        limbs = skeleton.render_limbs
        self._limb_a = np.array([lb.a for lb in limbs], np.intp)
        self._limb_b = np.array([lb.b for lb in limbs], np.intp)
        self.reset()

    def reset(self) -> None:
        """Forget every track and start a new stream: ids start again at 0."""
        self._tracks = Tracks.empty(self.skeleton.num_keypoints, len(self._limb_a))
        self._next_id = 0
        self._frame = 0
        self._time: float | None = None
        self._relabelled: tuple[tuple[int, int, int], ...] = ()

    @property
    def active_ids(self) -> list[int]:
        """Ids of the confirmed tracks alive after the last update (matched now or recently, or re-identifiable)."""
        return [int(i) for i in self._tracks.ids if i >= 0]

    @property
    def frames(self) -> int:
        """How many updates this stream has had (the last one is number ``frames``)."""
        return self._frame

    @property
    def time(self) -> float | None:
        """The timestamp of the last update (None before the first)."""
        return self._time

    @property
    def undecided_since(self) -> int | None:
        """The earliest update whose people include one whose track is still tentative after the last update (its
        id may yet be given), or None: every earlier person's id is final."""
        tracks = self._tracks
        rows = np.flatnonzero((tracks.ids < 0) & (tracks.frame == self._frame))
        return min((tracks.pending[r][0][0] for r in rows), default=None)

    @property
    def relabelled(self) -> tuple[tuple[int, int, int], ...]:
        """People of earlier updates that the last update's newly confirmed tracks covered, as ``(update number,
        index in that update's people, track id)``: they were returned with ``track_id == -1`` then."""
        return self._relabelled

    def update(self, people: Sequence[Person], timestamp: float, image: np.ndarray | None = None) -> list[Person]:
        """Match the people of one frame to the tracks and return them, in the same order, with ``track_id`` set.

        Args:
            people: the frame's people (any order), all of this tracker's skeleton.
            timestamp: the frame's time in seconds; must increase from call to call.
            image: the (H, W, 3) uint8 BGR frame they were found in, for appearance (None: pose and motion only).

        Returns:
            The same people with ``track_id >= 0``, or -1 for a person whose track is still tentative (seen in fewer
            than ``min_hits`` frames); keypoints smoothed if smoothing is on (scores untouched).
        """
        t, people = self._checked(people, timestamp, image)
        previous, self._time = self._time, t  # after every check: a refused call changes nothing
        self._frame += 1
        det = _as_array(people, self.skeleton.num_keypoints)
        # a point with any value NaN or infinite (a hand-made Person, say) is missing: it must not reach the tracks
        found = np.isfinite(det).all(axis=-1) & (det[..., 2] > 0)
        det_xy = np.where(found[..., None], det[..., :2], 0.0)
        # a piece of someone else found twice takes part in nothing (no keypoints here) and is never confirmed
        dup = duplicates(det_xy, found, self.config.min_tolerance_px) if self.config.drop_duplicates else \
            np.zeros(len(people), bool)
        det_ok = found & ~dup[:, None]
        if image is not None and len(people):
            colour, colour_ok = limb_colours(image, det_xy, det_ok, self._limb_a, self._limb_b)
        else:
            colour = np.zeros((len(people), len(self._limb_a), 3), np.float32)
            colour_ok = np.zeros(colour.shape[:2], bool)
        tracks = self._tracks
        age = t - tracks.t
        confirmed = tracks.ids >= 0
        keep = (confirmed & (age <= max(self.config.max_age, self.config.reid_time))) | (
            ~confirmed & (tracks.frame == self._frame - 1))
        if not keep.all():
            tracks = tracks.select(np.flatnonzero(keep))
        live = (tracks.ids < 0) | (t - tracks.t <= self.config.max_age)
        if live.all():
            rows, cols = match_live(tracks, det_xy, det_ok, colour, colour_ok, t, self._sigmas, self.config)
        else:
            live = np.flatnonzero(live)
            rows, cols = match_live(tracks.select(live), det_xy, det_ok, colour, colour_ok, t, self._sigmas,
                                    self.config)
            rows = live[rows]
        self._continue(tracks, rows, det_xy[cols], det_ok[cols], colour[cols], colour_ok[cols], t)
        for r, c in zip(rows[tracks.ids[rows] < 0], cols[tracks.ids[rows] < 0]):
            tracks.pending[r].append((self._frame, int(c)))
        track_of = np.empty(len(people), np.int64)
        track_of[cols] = rows
        unmatched = np.ones(len(people), bool)
        unmatched[cols] = False
        fresh = np.flatnonzero(unmatched)
        track_of[fresh] = np.arange(len(tracks.ids), len(tracks.ids) + len(fresh))
        born = Tracks.new(np.full(len(fresh), -1, np.int64), det_xy[fresh], det_ok[fresh], t, self._frame,
                          colour[fresh], colour_ok[fresh].astype(np.float32))
        born.hits[dup[fresh]] = 0  # never reaches min_hits: dropped next frame, without an id
        for r, c in enumerate(fresh):
            born.pending[r].append((self._frame, int(c)))
        tracks, track_of = self._confirm(tracks.extend(born), track_of, t)
        self._tracks = tracks
        ids = tracks.ids[track_of]
        if self.smoothing is None:
            return [p.with_track_id(int(i)) for p, i in zip(people, ids)]
        return self._smoothed(people, ids, track_of, det_xy, found, t, previous)

    def _checked(self, people: Sequence[Person], timestamp: float,
                 image: np.ndarray | None) -> tuple[float, list[Person]]:
        """The update's time and its people as a list, after checking both (and the image)."""
        t = float(timestamp)
        if not math.isfinite(t):
            raise ValueError(f"timestamp must be a finite number of seconds, got {timestamp}")
        if self._time is not None and t <= self._time:
            raise ValueError(f"timestamps must increase: {t} after {self._time}")
        if image is not None and not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
                                      and image.shape[2] == 3 and image.size):
            raise ValueError("image must be the frame as an (H, W, 3) uint8 BGR array, or None")
        if isinstance(people, Person):
            raise TypeError("people must be a list of Person: pass [person] for one")
        people = list(people)  # once: a generator would be used up by the checks
        for p in people:
            if not isinstance(p, Person):
                raise TypeError(f"people must be a list of Person, got a {type(p).__name__} in it")
            if p.skeleton is not self.skeleton:
                raise ValueError(f"tracker is for {self.skeleton.name}, got a {p.skeleton.name} person")
        return t, people

    def _continue(self, tracks: Tracks, rows: np.ndarray, xy: np.ndarray, ok: np.ndarray, colour: np.ndarray,
                  colour_ok: np.ndarray, t: float) -> None:
        """Fold the matched detections into their tracks (in place): motion, positions, colours, counts."""
        dt = t - tracks.t[rows]
        weight = np.where(dt < VELOCITY_DT, 0.0, np.where(tracks.hits[rows] == 1, 1.0, self.config.velocity_weight))
        tracks.xy[rows], tracks.velocity[rows] = observe(tracks.xy[rows], tracks.seen[rows], tracks.velocity[rows],
                                                         dt, xy, ok, weight)
        tracks.seen[rows] |= ok
        tracks.t[rows] = t
        tracks.frame[rows] = self._frame
        tracks.hits[rows] += 1
        n = tracks.colour_n[rows]
        # a clean limb colour is averaged in (a plain mean for the first few); a limb never seen clean takes none
        w = np.where(colour_ok, np.maximum(COLOUR_WEIGHT, 1.0 / (n + 1.0)), 0.0)[..., None]
        tracks.colour[rows] = (1.0 - w) * tracks.colour[rows] + w * colour
        tracks.colour_n[rows] = n + colour_ok

    def _confirm(self, tracks: Tracks, track_of: np.ndarray, t: float) -> tuple[Tracks, np.ndarray]:
        """Give ids to the tentative tracks matched in ``min_hits`` frames: a lost track's if one looks the same (that
        lost row is then dropped), else the next new id; note the earlier people they covered."""
        ready = np.flatnonzero((tracks.ids < 0) & (tracks.hits >= self.config.min_hits))
        self._relabelled = ()
        if len(ready) == 0:
            return tracks, track_of
        lost = np.flatnonzero((tracks.ids >= 0) & (tracks.t < t) & (t - tracks.t <= self.config.reid_time))
        drop = np.zeros(0, np.int64)
        if self.config.reid_time > 0 and len(lost):
            new_rows, lost_rows = match_lost(tracks.select(ready), tracks.select(lost), t, self.config)
            new_rows, lost_rows = ready[new_rows], lost[lost_rows]
            # a new track that could be a lost person, but whose colours cannot tell yet, stays tentative a while
            rest = np.setdiff1d(ready, new_rows)
            wait = rest[(t - tracks.since[rest] < APPEARANCE_WAIT)
                        & undecided(tracks.select(rest), tracks.select(lost), t, self.config)]
            ready = np.setdiff1d(ready, wait)
            tracks.ids[new_rows] = tracks.ids[lost_rows]
            n_new, n_old = tracks.colour_n[new_rows][..., None], tracks.colour_n[lost_rows][..., None]
            tracks.colour[new_rows] = (n_new * tracks.colour[new_rows] + n_old * tracks.colour[lost_rows]) / \
                np.maximum(n_new + n_old, 1.0)
            tracks.colour_n[new_rows] += tracks.colour_n[lost_rows]
            drop = lost_rows
        fresh = ready[tracks.ids[ready] < 0]
        tracks.ids[fresh] = np.arange(self._next_id, self._next_id + len(fresh))
        self._next_id += len(fresh)
        self._relabelled = tuple((f, c, int(i)) for r, i in zip(ready, tracks.ids[ready])
                                 for f, c in tracks.pending[r] if f < self._frame)
        for r in ready:
            tracks.pending[r] = []
        if len(drop):
            keep = np.setdiff1d(np.arange(len(tracks.ids)), drop)
            remap = np.full(len(tracks.ids), -1, np.int64)
            remap[keep] = np.arange(len(keep))
            tracks, track_of = tracks.select(keep), remap[track_of]
        return tracks, track_of

    def _smoothed(self, people: list[Person], ids: np.ndarray, track_of: np.ndarray, det_xy: np.ndarray,
                  det_ok: np.ndarray, t: float, previous: float | None) -> list[Person]:
        """The people with their ids and their keypoints through their tracks' One-Euro filters."""
        tracks = self._tracks
        state = FilterState(*(a[track_of] for a in tracks.filt))
        # a keypoint missing from the previous frame (or its whole person was) restarts rather than slide from there
        state = state._replace(alive=state.alive & (state.t >= (t if previous is None else previous)))
        smoothed, state = smooth(state, det_xy, det_ok, t, self.smoothing)
        for stored, new in zip(tracks.filt, state):  # each filter array of every track, updated for these tracks
            stored[track_of] = new
        moved = [_moved(p, int(i), xy) for p, i, xy in zip(people, ids, smoothed)]
        if not has_parts(people):
            return moved
        parts = parts_array(people)  # hands and face through their own filters, restarting as the body's do
        parts_ok = np.isfinite(parts).all(axis=-1)
        state = FilterState(*(a[track_of] for a in tracks.part_filt))
        state = state._replace(alive=state.alive & (state.t >= (t if previous is None else previous)))
        smoothed, state = smooth(state, np.where(parts_ok[..., None], parts[..., :2], 0.0), parts_ok, t,
                                 self.smoothing)
        for stored, new in zip(tracks.part_filt, state):
            stored[track_of] = new
        return [with_parts_at(p, xy) for p, xy in zip(moved, smoothed)]


def _moved(person: Person, track_id: int, xy: np.ndarray) -> Person:
    """``person`` with id ``track_id`` and its present keypoints at ``xy`` (K, 2); scores unchanged. Its hands and
    face go with it (``_smoothed`` moves them to their filtered places)."""
    keypoints = tuple([None if kp is None else Keypoint(kp.name, x, y, kp.score)
                       for kp, (x, y) in zip(person.keypoints, xy.tolist())])
    return replace(person, keypoints=keypoints, track_id=track_id)


_MISSING = (np.nan, np.nan, np.nan)


def _as_array(people: Sequence[Person], k: int) -> np.ndarray:
    """(P, K, 3) x, y, score of ``people``, NaN where missing (one array build for everyone)."""
    rows = [_MISSING if kp is None else (kp.x, kp.y, kp.score) for p in people for kp in p.keypoints]
    return np.array(rows, dtype=np.float64).reshape(len(people), k, 3)
