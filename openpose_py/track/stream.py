"""Tracking in a stream of frames: the timestamps frames carry, :class:`Relabeller` (holds each frame's people until
the tracker has decided their ids) and :func:`track_frames`, the streaming API (the video pipeline takes a tracker
too). Single images (``PoseEstimator.__call__``) stay stateless."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import numpy as np

from ..results import Person
from ..video.sources import NOMINAL_FPS, frame_time
from .gaps import GapFiller
from .one_euro import SmoothingConfig
from .tracker import PoseTracker, TrackerConfig

if TYPE_CHECKING:
    from ..inference import PoseEstimator
    from ..video.sinks import FrameResult
    from ..video.sources import Frame, StreamInfo

__all__ = ["NOMINAL_FPS", "frame_time", "Relabeller", "TrackingStage", "track_frames"]

class Relabeller:
    """Holds each frame's tracked people until the tracker has confirmed (or dropped) every tentative track they hold
    (``min_hits - 1`` more frames, a little longer for someone coming out from behind another person, whose
    appearance is awaited), and labels them with the ids confirmed meanwhile
    (:attr:`PoseTracker.relabelled`): a person seen from frame 10 is ``track_id`` n from frame 10 on, not from 11.
    Feed it right after each ``tracker.update``; what comes out is in order, a little later. Live streams, which
    want each frame at once, skip it: there a person shows ``track_id == -1`` until its track is confirmed. Frames
    with final ids then go through a :class:`~openpose_py.track.gaps.GapFiller` (the tracker's
    ``config.max_gap``; held that much longer): a person missed for a moment is put back, interpolated."""

    def __init__(self, tracker: PoseTracker) -> None:
        self.tracker = tracker
        self._held: deque[tuple[int, float, list[Person], Any]] = deque()
        self._gaps = GapFiller(tracker.config.max_gap)

    def push(self, people: list[Person], payload: Any = None) -> list[tuple[list[Person], Any]]:
        """Hold the last update's ``people`` (with anything to give back with them); return the (people, payload)
        pairs now final, oldest first."""
        number = self.tracker.frames
        held = {n: earlier for n, _, earlier, _ in self._held}
        held[number] = people = list(people)
        for n, index, track_id in self.tracker.relabelled:
            if n in held:
                held[n][index] = held[n][index].with_track_id(track_id)
        self._held.append((number, float(self.tracker.time or 0.0), people, payload))
        ready = []
        undecided = self.tracker.undecided_since
        while self._held and (undecided is None or self._held[0][0] < undecided):
            _, t, done, item = self._held.popleft()
            ready += self._gaps.push(t, done, item)
        return ready

    def flush(self) -> list[tuple[list[Person], Any]]:
        """Everything still held (the stream has ended), oldest first."""
        out = [pair for _, t, people, item in self._held for pair in self._gaps.push(t, people, item)]
        self._held.clear()
        return out + self._gaps.flush()


class TrackingStage:
    """The video pipeline's tracking step (a :class:`~openpose_py.video.stage.ResultStage`, given to
    ``run_pipeline(stage=...)``): each :class:`FrameResult` through ``tracker`` at the frame's time and with its
    pixels (appearance); with ``relabel`` through a :class:`Relabeller` too, so that results come out a little later
    with new people labelled from their first frame; :meth:`flush` gives the rest at the end. ``relabel`` None: decided
    by :meth:`open`, for a file's frames but not a live source's (there a new person shows ``track_id`` -1 until its
    track is confirmed)."""

    def __init__(self, tracker: PoseTracker, relabel: bool | None = None) -> None:
        self.tracker = tracker
        self.relabel = relabel
        self.relabeller = Relabeller(tracker) if relabel else None

    def open(self, info: "StreamInfo") -> None:
        if self.relabel is None:
            self.relabeller = None if info.live else Relabeller(self.tracker)

    def __call__(self, result: "FrameResult") -> list["FrameResult"]:
        people = self.tracker.update(result.people, frame_time(result.frame), image=_bgr_or_none(result.frame.image))
        if self.relabeller is None:
            return [replace(result, people=tuple(people))]
        return [replace(item, people=tuple(done)) for done, item in self.relabeller.push(people, result)]

    def flush(self) -> list["FrameResult"]:
        held = self.relabeller.flush() if self.relabeller is not None else []
        return [replace(item, people=tuple(done)) for done, item in held]


def _bgr_or_none(image: "np.ndarray | None") -> "np.ndarray | None":
    """The frame for the tracker's appearance cue if it is an (H, W, 3) uint8 image, else None (pose only)."""
    ok = isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    return image if ok and image.size else None


def track_frames(estimator: "PoseEstimator", frames: Iterable["np.ndarray | Frame"], *,
                 tracker: PoseTracker | None = None, fps: float = NOMINAL_FPS,
                 config: TrackerConfig = TrackerConfig(),
                 smoothing: SmoothingConfig | None = None) -> Iterator[list[Person]]:
    """Yield each frame's people with stable ``track_id`` values, one frame at a time, in order.

    Args:
        estimator: the pose estimator run on each frame.
        frames: BGR images (frame ``i`` at ``i / fps`` seconds) or :class:`Frame` objects (their own timestamps).
        tracker: a tracker to continue; by default a new one for the estimator's skeleton with ``config`` and
            ``smoothing``.
        fps: the rate of plain images.

    Each frame's people come out ``min_hits - 1`` frames and ``config.max_gap`` seconds after the frame went in (at
    the end, all that remain), so that a person is labelled with its id from the first frame its track covered and a
    person missed for a moment is put back (:class:`Relabeller`); people whose track was never confirmed (one-frame
    false detections) keep ``track_id == -1``.
    """
    from ..video.sources import Frame

    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps < math.inf:
        raise ValueError(f"fps must be a positive finite number, got {fps!r}")
    if isinstance(frames, np.ndarray):  # iterating it would run each row as an image
        raise TypeError("frames must be an iterable of images or Frames, not one array: pass [image] for one")
    if tracker is None:
        tracker = PoseTracker(estimator.parts.skeleton(estimator.skeleton), config, smoothing=smoothing)
    relabeller = Relabeller(tracker)
    for i, item in enumerate(frames):
        if isinstance(item, Frame):
            image, stamp = item.image, frame_time(item)
        else:
            image, stamp = item, i / fps
        people = tracker.update(estimator(image), stamp, image=_bgr_or_none(image))
        for done, _ in relabeller.push(people):
            yield done
    for done, _ in relabeller.flush():
        yield done
