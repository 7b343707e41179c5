"""``openpose-py video``: poses on every frame of a video file or stream, as a rendered video and OpenPose JSON."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import click

from .options import (
    EstimatorOptions,
    build_estimator,
    estimator_options,
    keypoint_scale_option,
    quiet_video_backends,
    render_style,
    render_threshold_option,
)
from .options import keypoint_scale as to_keypoint_scale
from .tracking import TrackingOptions, build_tracker, tracking_options, tracks_sinks

if TYPE_CHECKING:
    import threading

    from ..inference import PoseEstimator
    from ..track import PoseTracker
    from ..video import FrameSink, FrameSource, RunReport

__all__ = ["video", "check_video_output", "run_with_progress"]


def check_video_output(output: Path | None) -> None:
    """Reject an output video name whose container cannot be written (a usage error)."""
    from ..video import VIDEO_FOURCC

    if output is not None and output.suffix.lower() not in VIDEO_FOURCC:
        raise click.BadParameter(f"{output}: the video must end in one of {', '.join(sorted(VIDEO_FOURCC))}",
                                 param_hint="'--output'")


def run_with_progress(estimator: "PoseEstimator", source: "FrameSource", sinks: Sequence["FrameSink"], *,
                      batch_size: int = 1, stop: "threading.Event | None" = None,
                      latest_only: bool = False, tracker: "PoseTracker | None" = None) -> "RunReport":
    """:func:`run_video` with a frames-per-second progress bar, then a summary line; Ctrl-C exits with 130."""
    from tqdm import tqdm

    from ..video import run_video

    bar = tqdm(total=source.info.frame_count, unit="frame", dynamic_ncols=True, smoothing=0.1)
    try:
        report = run_video(estimator, source, sinks, batch_size=batch_size, progress=lambda _: bar.update(1),
                           stop=stop, latest_only=latest_only, tracker=tracker)
    finally:
        bar.close()
    click.echo(f"{report.frames} frames, {report.people} people, {report.fps:.1f} frames/s", err=True)
    if report.interrupted:
        click.echo("Stopped early: every output written so far is complete.", err=True)
    return report


@click.command("video")
@click.argument("source", metavar="SOURCE")
@estimator_options
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the rendered video here (same size and frame rate; .mp4, .avi, .mov, .mkv, .m4v).")
@click.option("--json-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write OpenPose JSON, <video stem>_<12-digit frame index>_keypoints.json per frame.")
@click.option("--part-candidates", is_flag=True, help="Add every keypoint candidate to the JSON (needs --json-dir).")
@keypoint_scale_option
@render_threshold_option
@click.option("--start", type=click.IntRange(min=0), default=0, show_default=True, help="First frame index.")
@click.option("--end", type=click.IntRange(min=1), default=None, help="Stop before this frame index.")
@click.option("--step", type=click.IntRange(min=1), default=1, show_default=True, help="Process every N-th frame.")
@click.option("--batch-size", type=click.IntRange(min=1), default=1, show_default=True,
              help="Frames run through the network together.")
@tracking_options(smooth=False)
def video(source: str, estimator_options: EstimatorOptions, output: Path | None, json_dir: Path | None,
          part_candidates: bool, keypoint_scale: str, render_threshold: float, start: int, end: int | None,
          step: int, batch_size: int, tracking_options: TrackingOptions) -> None:
    """Estimate poses on a video file or stream URL (rtsp://, http://, ...).

    Reading, inference and writing run concurrently. Ctrl-C stops cleanly: the output video is closed and playable
    and every JSON file written is complete.

    \b
    Examples:
      openpose-py video clip.mp4 --output clip_pose.mp4 --json-dir json/
      openpose-py video clip.mp4 --json-dir json/ --smooth --tracks-csv tracks.csv
      openpose-py video rtsp://camera.local/stream --json-dir json/ --step 5
    """
    from ..video import FrameRange, JsonSink, VideoSink, VideoSource, is_stream_url

    if part_candidates and json_dir is None:
        raise click.UsageError("--part-candidates needs --json-dir")
    if end is not None and end <= start:
        raise click.BadParameter(f"--end ({end}) must be greater than --start ({start})", param_hint="'--end'")
    if not is_stream_url(source) and not Path(source).is_file():
        what = "a folder, not a video file" if Path(source).is_dir() else "no such file"
        raise click.BadParameter(f"{source}: {what}", param_hint="'SOURCE'")
    check_video_output(output)
    quiet_video_backends()
    sinks = []
    if json_dir is not None:
        sinks.append(JsonSink(json_dir, keypoint_scale=to_keypoint_scale(keypoint_scale),
                              part_candidates=part_candidates))
    if output is not None:
        sinks.append(VideoSink(output, render_style(render_threshold)))
    sinks += tracks_sinks(tracking_options)
    if not sinks:
        raise click.UsageError("nothing to write: give --output and/or --json-dir")
    frames = FrameRange(start, end, step)
    with VideoSource(source if is_stream_url(source) else Path(source), frames) as src:
        estimator = build_estimator(estimator_options)
        report = run_with_progress(estimator, src, sinks, batch_size=batch_size,
                                   tracker=build_tracker(tracking_options, estimator.skeleton))
    if report.interrupted:
        raise click.exceptions.Exit(130)
