"""Tracking in a stream of frames: the timestamps frames carry, and :func:`track_frames`, the streaming API (the video
pipeline takes a tracker too). Single images (``PoseEstimator.__call__``) stay stateless."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np

from ..results import Person
from .one_euro import SmoothingConfig
from .tracker import PoseTracker, TrackerConfig

if TYPE_CHECKING:
    from ..inference import PoseEstimator
    from ..video.sinks import FrameResult
    from ..video.sources import Frame

__all__ = ["NOMINAL_FPS", "frame_time", "track_result", "track_frames"]

#: Frame rate assumed for frames that carry no timestamp (image sequences, a video without a rate in its header).
NOMINAL_FPS = 30.0


def frame_time(frame: "Frame") -> float:
    """A frame's time in seconds: its own timestamp, else its index at :data:`NOMINAL_FPS`."""
    return frame.timestamp if frame.timestamp is not None else frame.index / NOMINAL_FPS


def track_result(tracker: PoseTracker, result: "FrameResult") -> "FrameResult":
    """``result`` with its people passed through ``tracker`` at the frame's time."""
    return replace(result, people=tuple(tracker.update(result.people, frame_time(result.frame))))


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
    """
    from ..video.sources import Frame

    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps < math.inf:
        raise ValueError(f"fps must be a positive finite number, got {fps!r}")
    if isinstance(frames, np.ndarray):  # iterating it would run each row as an image
        raise TypeError("frames must be an iterable of images or Frames, not one array: pass [image] for one")
    if tracker is None:
        tracker = PoseTracker(estimator.parts.skeleton(estimator.skeleton), config, smoothing=smoothing)
    for i, item in enumerate(frames):
        if isinstance(item, Frame):
            image, stamp = item.image, frame_time(item)
        else:
            image, stamp = item, i / fps
        yield tracker.update(estimator(image), stamp)
