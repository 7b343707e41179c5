"""The live window of ``openpose-py webcam``: a check that a window can open here, and the sink that shows frames."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from ...errors import OpenPoseError
from ...runs.ledger import count
from ...render import Painter, RenderStyle, draw_text
from ..sources import StreamInfo
from .files import FrameResult, FrameSink

__all__ = ["DisplaySink", "check_display"]

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

    def __init__(self, stop: threading.Event, style: Painter = RenderStyle(), title: str = "openpose-py") -> None:
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
        picture = self.style.draw(result.frame.image, result.people)
        picture = draw_text(picture, [f"{self._fps:.1f} FPS", count(n, "person")])
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
