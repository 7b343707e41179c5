"""``openpose-py webcam``: live poses from a camera (or a file/stream standing in for one) in a window."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import click

from ..errors import CameraError, OpenPoseError, VideoError
from ..render import RenderStyle, draw_people, draw_text
from ..video import FrameResult, FrameSink, StreamInfo
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
from .video import check_video_output, run_with_progress

__all__ = ["webcam", "DisplaySink", "check_display"]

_QUIT_KEYS = (ord("q"), ord("Q"), 27)  # q or Esc
# Opening a window in a child process first: OpenCV's Qt back end aborts the whole process when it has no display.
_PROBE = "import cv2; cv2.namedWindow('openpose-py probe'); cv2.waitKey(1); cv2.destroyAllWindows()"


def check_display() -> None:
    """Raise a one-line :class:`OpenPoseError` unless a window can be opened here."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise OpenPoseError("no display available (neither DISPLAY nor WAYLAND_DISPLAY is set); "
                            "use --no-display to run headless")
    try:
        probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise OpenPoseError("opening a window timed out; use --no-display to run headless") from None
    if probe.returncode != 0:
        lines = [ln.strip() for ln in probe.stderr.splitlines() if ln.strip()]
        reason = lines[0] if lines else f"exit status {probe.returncode}"
        raise OpenPoseError(f"cannot open a window ({reason}); use --no-display to run headless")


class DisplaySink(FrameSink):
    """Shows each rendered frame with its frame rate and people count; ``q`` or Esc (or closing it) sets ``stop``."""

    def __init__(self, stop: threading.Event, style: RenderStyle = RenderStyle(), title: str = "openpose-py") -> None:
        self.stop = stop
        self.style = style
        self.title = title
        self._last: float | None = None
        self._fps = 0.0
        self._shown = False

    def open(self, info: StreamInfo) -> None:
        self.title = f"openpose-py: {info.name} (q or Esc quits)"

    def write(self, result: FrameResult) -> None:
        import cv2

        now = time.perf_counter()
        if self._last is not None and now > self._last:
            rate = 1.0 / (now - self._last)
            # exponential smoothing so the number is readable while it updates every frame
            self._fps = rate if self._fps == 0.0 else 0.9 * self._fps + 0.1 * rate
        self._last = now
        n = len(result.people)
        picture = draw_people(result.frame.image, result.people, self.style)
        picture = draw_text(picture, [f"{self._fps:.1f} FPS", f"{n} {'person' if n == 1 else 'people'}"])
        cv2.imshow(self.title, picture)
        self._shown = True
        key = cv2.waitKey(1) & 0xFF
        closed = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1
        if key in _QUIT_KEYS or closed:
            self.stop.set()

    def close(self, keep: bool = True) -> None:
        import cv2

        if self._shown:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)


@click.command("webcam")
@click.option("--camera", "-c", default="0", show_default=True, metavar="INDEX|PATH|URL",
              help="Camera index, or a video file or stream URL standing in for a camera.")
@estimator_options
@click.option("--no-display", is_flag=True, help="Run without a window (headless); write outputs like `video`.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the rendered frames as a video.")
@click.option("--json-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write OpenPose JSON per frame.")
@keypoint_scale_option
@render_threshold_option
@tracking_options(smooth=True)
def webcam(camera: str, estimator_options: EstimatorOptions, no_display: bool, output: Path | None,
           json_dir: Path | None, keypoint_scale: str, render_threshold: float,
           tracking_options: TrackingOptions) -> None:
    """Live pose estimation: a window with skeletons, frame rate and people count; q or Esc quits.

    \b
    Examples:
      openpose-py webcam
      openpose-py webcam --camera 1 --height 256
      openpose-py webcam --camera rtsp://cam.local/stream --no-display --json-dir json/
    """
    from ..video import JsonSink, VideoSink, VideoSource, is_stream_url

    check_video_output(output)
    if not no_display:
        check_display()
    quiet_video_backends()
    stop = threading.Event()
    sinks: list[FrameSink] = []
    if json_dir is not None:
        sinks.append(JsonSink(json_dir, keypoint_scale=to_keypoint_scale(keypoint_scale)))
    if output is not None:
        sinks.append(VideoSink(output, render_style(render_threshold)))
    if not no_display:
        sinks.append(DisplaySink(stop, render_style(render_threshold)))
    sinks += tracks_sinks(tracking_options)
    spec = camera.strip()
    if spec.isdigit():
        source_arg: str | Path = spec
    elif is_stream_url(spec):
        source_arg = spec
    elif Path(spec).is_file():
        source_arg = Path(spec)
    else:
        raise CameraError(f"cannot open camera {spec!r}: not a camera index, an existing video file or a URL")
    try:
        source = VideoSource(source_arg)
    except CameraError:
        raise
    except VideoError as exc:
        raise CameraError(f"cannot open camera {spec!r}: {exc}") from None
    with source:
        estimator = build_estimator(estimator_options)
        # a live camera shows the newest frame rather than a growing backlog; a file is processed frame by frame
        report = run_with_progress(estimator, source, sinks, stop=stop, latest_only=True,
                                   tracker=build_tracker(tracking_options, estimator.skeleton))
    if report.interrupted and not stop.is_set():  # Ctrl-C rather than the window's quit key
        raise click.exceptions.Exit(130)
