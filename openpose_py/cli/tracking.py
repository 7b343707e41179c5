"""Tracking flags of ``video`` and ``webcam``: ``--track/--no-track --track-max-age --track-reid-time
--track-min-hits --track-max-gap --smooth/--no-smooth --smooth-min-cutoff --smooth-beta --smooth-d-cutoff
--tracks-csv``, handed to the command as one :class:`TrackingOptions` (keyword ``tracking_options``), and the
tracker and table sink they describe."""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

if TYPE_CHECKING:
    from ..inference import PoseEstimator
    from ..skeleton import Skeleton
    from ..track import PoseTracker
    from ..track.stream import TrackingStage
    from ..video import FrameSink

__all__ = ["TrackingOptions", "tracking_options", "build_tracker", "tracking_stage", "tracks_sinks"]


@dataclass(frozen=True, slots=True)
class TrackingOptions:
    """The tracking flags of one command line, as given."""

    track: bool = True
    track_max_age: float = 1.0
    track_reid_time: float = 3.0  # the TrackerConfig defaults, copied so that --help needs no scipy import
    track_min_hits: int = 2
    track_max_gap: float = 0.15
    smooth: bool | None = False  # None: the command decides (video: on for --render-style controlnet)
    smooth_min_cutoff: float = 0.5  # the SmoothingConfig defaults, copied so that --help needs no scipy import
    smooth_beta: float = 0.1
    smooth_d_cutoff: float = 0.2
    tracks_csv: Path | None = None


_KEYS = tuple(f.name for f in fields(TrackingOptions))


def tracking_options(*, smooth: bool | None, table: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: add the tracking flags (smoothing on by default when ``smooth``, left to the command when None;
    ``--tracks-csv`` when ``table``) to a click command."""
    defaults = TrackingOptions()
    positive = click.FloatRange(min=0.0, min_open=True)
    options = (
        click.option("--track/--no-track", default=True, show_default=True,
                     help="Give each person a stable id across frames (OpenPose JSON person_id, colours in renders)."),
        click.option("--track-max-age", type=positive, default=defaults.track_max_age,
                     show_default=True, help="Seconds a person may go undetected (occlusion) and keep their id."),
        click.option("--track-reid-time", type=click.FloatRange(min=0.0, max=3600.0),
                     default=defaults.track_reid_time, show_default=True,
                     help="Seconds a lost person's appearance is kept: coming back looking the same, near where they "
                          "were last seen, they get their id back (0: off)."),
        click.option("--track-min-hits", type=click.IntRange(1, 1000), default=defaults.track_min_hits,
                     show_default=True,
                     help="Frames in a row a new person must be found in before getting an id (2 drops one-frame "
                          "false detections; a file's earlier frames are then labelled too, a live source shows -1 "
                          "until then)."),
        click.option("--track-max-gap", type=click.FloatRange(0.0, 10.0), default=defaults.track_max_gap,
                     show_default=True,
                     help="Seconds a tracked person may be missed and be put back in the frames between, interpolated "
                          "at half score (files only; outputs run that much later; 0: off)."),
        click.option("--smooth/--no-smooth", default=smooth, show_default=smooth is not None,
                     help="Smooth each tracked person's keypoints over time (One-Euro filter; needs --track)."
                          + ("  [default: on with --render-style controlnet, else off]" if smooth is None else "")),
        click.option("--smooth-min-cutoff", type=positive, default=defaults.smooth_min_cutoff, show_default=True,
                     help="One-Euro cutoff (Hz) for still keypoints: lower smooths more."),
        click.option("--smooth-beta", type=click.FloatRange(min=0.0), default=defaults.smooth_beta,
                     show_default=True,
                     help="One-Euro speed coefficient (per pixel/s): higher lags less on fast moves."),
        click.option("--smooth-d-cutoff", type=positive, default=defaults.smooth_d_cutoff, show_default=True,
                     help="One-Euro cutoff (Hz) of the speed estimate."),
        click.option("--tracks-csv", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Write a tidy table of tracks (frame, time, track_id, person_score, keypoint, x, y, score), a row "
                          "per keypoint found; "
                          "Parquet if the name ends in .parquet (needs pyarrow)."),
    )

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            opts = TrackingOptions(**{key: kwargs.pop(key) for key in _KEYS if key in kwargs})
            if not opts.track and opts.tracks_csv is not None:
                raise click.UsageError("--tracks-csv needs tracking; drop --no-track")
            if not opts.track and opts.smooth and smooth is not True:
                raise click.UsageError("--smooth follows tracks; drop --no-track")
            return func(*args, tracking_options=opts, **kwargs)

        for option in reversed(options if table else options[:-1]):
            wrapper = option(wrapper)
        return wrapper

    return decorate


def build_tracker(opts: TrackingOptions, skeleton: "Skeleton") -> "PoseTracker | None":
    """The tracker the flags describe, or None with ``--no-track`` (smoothing needs tracks, so it is off then)."""
    if not opts.track:
        return None
    from ..track import PoseTracker, SmoothingConfig, TrackerConfig

    smoothing = SmoothingConfig(opts.smooth_min_cutoff, opts.smooth_beta, opts.smooth_d_cutoff) if opts.smooth else None
    config = TrackerConfig(max_age=opts.track_max_age, reid_time=opts.track_reid_time, min_hits=opts.track_min_hits,
                           max_gap=opts.track_max_gap)
    return PoseTracker(skeleton, config, smoothing=smoothing)


def tracking_stage(opts: TrackingOptions, estimator: "PoseEstimator") -> "TrackingStage | None":
    """The pipeline's tracking stage: :func:`build_tracker` for the people ``estimator`` returns (BODY_25 when it
    finds feet); None without tracking."""
    from ..track.stream import TrackingStage

    tracker = build_tracker(opts, estimator.parts.skeleton(estimator.skeleton))
    return TrackingStage(tracker) if tracker is not None else None


def tracks_sinks(opts: TrackingOptions) -> list["FrameSink"]:
    """The tracks table sink, if ``--tracks-csv`` was given (its directory is probed now)."""
    if opts.tracks_csv is None:
        return []
    from ..video.sinks import TracksTableSink

    return [TracksTableSink(opts.tracks_csv)]
