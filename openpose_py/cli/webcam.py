"""``openpose-py webcam``: live poses from a camera (or a file/stream standing in for one) in a window."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from ..errors import CameraError, VideoError
from .options import (
    EstimatorOptions,
    RenderOptions,
    build_estimator,
    estimator_options,
    parts_options,
    keypoint_scale_option,
    quiet_video_backends,
    render_options,
)
from .options import keypoint_scale as to_keypoint_scale
from .tracking import TrackingOptions, tracking_stage, tracking_options, tracks_sinks
from .video import check_video_output, run_with_progress

__all__ = ["webcam"]

@click.command("webcam")
@click.option("--camera", "-c", default="0", show_default=True, metavar="INDEX|PATH|URL",
              help="Camera index, or a video file or stream URL standing in for a camera.")
@estimator_options
@parts_options
@click.option("--no-display", is_flag=True, help="Run without a window (headless); write outputs like `video`.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the rendered frames as a video.")
@click.option("--json-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write OpenPose JSON per frame.")
@keypoint_scale_option
@render_options
@tracking_options(smooth=True)
def webcam(camera: str, estimator_options: EstimatorOptions, no_display: bool, output: Path | None,
           json_dir: Path | None, keypoint_scale: str, render: RenderOptions,
           tracking_options: TrackingOptions) -> None:
    """Live pose estimation: a window with skeletons, frame rate and people count; q or Esc quits.

    \b
    Examples:
      openpose-py webcam
      openpose-py webcam --camera 1 --height 256
      openpose-py webcam --camera rtsp://cam.local/stream --no-display --json-dir json/
    """
    check_video_output(output)
    if no_display and output is None and json_dir is None and tracking_options.tracks_csv is None:
        raise click.UsageError("--no-display without --output, --json-dir or --tracks-csv would show and keep "
                               "nothing; add an output")
    from ..video import FrameSink, JsonSink, VideoSink, VideoSource, is_stream_url
    from ..video.sinks import DisplaySink, check_display

    if not no_display:
        check_display()
    quiet_video_backends()
    stop = threading.Event()
    sinks: list[FrameSink] = []
    if json_dir is not None:
        sinks.append(JsonSink(json_dir, keypoint_scale=to_keypoint_scale(keypoint_scale)))
    painter = render.painter()
    if output is not None:
        sinks.append(VideoSink(output, painter))
    if not no_display:
        sinks.append(DisplaySink(stop, painter))
    sinks += tracks_sinks(tracking_options)
    name = camera.strip()
    if name.isdigit():
        source_arg: str | Path = name
    elif is_stream_url(name):
        source_arg = name
    elif Path(name).is_file():
        source_arg = Path(name)
    else:
        raise CameraError(f"cannot open camera {name!r}: not a camera index, an existing video file or a URL")
    try:
        source = VideoSource(source_arg)
    except CameraError:
        raise
    except VideoError as exc:
        raise CameraError(f"cannot open camera {name!r}: {exc}") from None
    with source:
        estimator = build_estimator(estimator_options)
        # a live camera shows the newest frame rather than a growing backlog; a file is processed frame by frame
        report = run_with_progress(estimator, source, sinks, stop=stop, latest_only=True,
                                   stage=tracking_stage(tracking_options, estimator))
    if report.interrupted and not stop.is_set():  # Ctrl-C or SIGTERM/SIGHUP rather than the window's quit key
        from . import signals

        raise click.exceptions.Exit(signals.exit_status())
