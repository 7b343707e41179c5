"""Frame sources: image files (:class:`ImageSource`), video files, stream URLs and cameras (:class:`VideoSource`),
each yielding :class:`Frame` objects and describing itself with a :class:`StreamInfo`."""

from __future__ import annotations

import glob
import logging
import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import cv2
import numpy as np

from ..checks import check_all
from ..errors import CameraError, ImageReadError, VideoError
from ..images import load_image, not_found

__all__ = [
    "NOMINAL_FPS",
    "frame_time",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "FrameRange",
    "Frame",
    "StreamInfo",
    "FrameSource",
    "ImageSource",
    "VideoSource",
    "is_stream_url",
    "expand_image_paths",
    "expand_video_paths",
]

log = logging.getLogger(__name__)

#: File extensions (lower case) that folder and glob expansion treat as images.
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pgm", ".ppm"})
#: File extensions (lower case) that folder and glob expansion treat as videos.
VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv", ".flv"})


@dataclass(frozen=True, slots=True)
class FrameRange:
    """Which frames of a video to process: indices ``start, start + step, ...`` below ``end`` (None = to the end)."""

    start: int = 0
    end: int | None = None
    step: int = 1

    def __post_init__(self) -> None:
        check_all([(self.start >= 0, "start must be >= 0"), (self.step >= 1, "step must be >= 1"),
                   (self.end is None or self.end > self.start,
                    f"end ({self.end}) must be greater than start ({self.start})")])

    def count(self, total: int | None) -> int | None:
        """How many frames this range selects from a video of ``total`` frames (None if unknown)."""
        stop = self.end if total is None else (total if self.end is None else min(self.end, total))
        if stop is None:
            return None
        return max(0, -(-(stop - self.start) // self.step))


@dataclass(frozen=True, slots=True)
class Frame:
    """One picture to process.

    ``index`` is the frame's position in its video (or in the image list); ``name`` is the stem of every output
    written for it (``<image stem>`` or ``<video stem>_<12-digit index>``, possibly with sub-folders for images found
    in folders); ``path`` is the image file, if any. ``timestamp`` is the frame's time in seconds when its source
    knows it (a video file's ``index / fps``; a live source's capture time since its first frame), else None.
    """

    index: int
    image: np.ndarray
    name: str
    path: Path | None = None
    timestamp: float | None = None


#: Frame rate assumed for frames that carry no timestamp (image sequences, a video without a rate in its header).
NOMINAL_FPS = 30.0


def frame_time(frame: Frame) -> float:
    """A frame's time in seconds: its own timestamp, else its index at :data:`NOMINAL_FPS`."""
    return frame.timestamp if frame.timestamp is not None else frame.index / NOMINAL_FPS


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a source knows before its first frame: its name, rate, frame size and length."""

    name: str
    fps: float  # rate of the frames the source yields (after ``step``); 0 when unknown
    size: tuple[int, int] | None  # (width, height) when every frame has it
    frame_count: int | None  # frames the source will yield, when known
    live: bool = False  # a camera or network stream


class FrameSource(ABC):
    """An iterable of :class:`Frame` with :class:`StreamInfo`; use as a context manager to release it."""

    info: StreamInfo

    @abstractmethod
    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None:
        """Release the underlying file or device."""

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def expand_image_paths(inputs: Sequence[str | Path]) -> list[tuple[Path, str]]:
    """Files, folders (recursively, image extensions only) and glob patterns -> ``(path, output name)`` pairs.

    The output name is the file stem, prefixed by its sub-folder relative to a folder it was found in, so images with
    the same stem in different sub-folders do not overwrite each other's outputs.

    Raises:
        ImageReadError: an input that does not exist or matches nothing, a folder without images, or two inputs that
            would write the same output name.
    """
    return [(Path(p), name) for p, name in _expand(inputs, IMAGE_EXTENSIONS, "images", ImageReadError, urls=False)]


def expand_video_paths(inputs: Sequence[str | Path]) -> list[tuple[str, str]]:
    """Like :func:`expand_image_paths` for videos (files, folders, globs; :data:`VIDEO_EXTENSIONS` when searching),
    with stream URLs kept as given: ``(path or URL, output name)`` pairs, in the given order.

    Raises:
        VideoError: an input that does not exist or matches nothing, a folder without videos, or two inputs that
            would write the same output name.
    """
    return _expand(inputs, VIDEO_EXTENSIONS, "videos", VideoError, urls=True)


def _stream_name(url: str) -> str:
    """The output name of a stream: the last part of its URL's path, without extension or query."""
    return Path(url.split("?")[0].rstrip("/")).stem or "stream"


def _expand(inputs: Sequence[str | Path], extensions: frozenset[str], what: str, error: type[Exception], *,
            urls: bool) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for item in inputs:
        text = str(item)
        path = Path(text)
        if urls and is_stream_url(text):
            found.setdefault(text, _stream_name(text))
        elif path.is_file():
            found.setdefault(str(path), path.stem)
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in extensions)
            if not files:
                raise error(f"no {what} ({', '.join(sorted(extensions))}) in folder {path}")
            for p in files:
                found.setdefault(str(p), p.relative_to(path).with_suffix("").as_posix())
        elif glob.has_magic(text):
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            files = [m for m in matches if m.is_file() and m.suffix.lower() in extensions]
            if not files:
                raise error(f"no {what} match {text!r}")
            for p in files:
                found.setdefault(str(p), p.stem)
        else:
            raise error(not_found(text, "file or folder"))
    by_name: dict[str, str] = {}
    for p, name in found.items():
        if name in by_name:
            raise error(f"{by_name[name]} and {p} would write outputs under the same name {name!r}")
        by_name[name] = p
    return list(found.items())


class ImageSource(FrameSource):
    """Image files as frames, in the given order.

    An unreadable file is left out and remembered in :attr:`skipped`, with a warning: passed to ``on_skip(path,
    reason)`` when given (from the reader thread), else logged. With ``strict`` it is remembered and raises
    :class:`ImageReadError`.
    ``indices`` are the frames' indices (default 0, 1, ...): a share of a larger list keeps the full list's.
    """

    def __init__(self, items: Sequence[tuple[Path, str]] | Sequence[str | Path], *, strict: bool = False,
                 on_skip: Callable[[Path, str], None] | None = None, indices: Sequence[int] | None = None) -> None:
        self.items = [(Path(i[0]), i[1]) if isinstance(i, tuple) else (Path(i), Path(i).stem) for i in items]
        self.indices = list(range(len(self.items))) if indices is None else list(indices)
        if len(self.indices) != len(self.items):
            raise ValueError("give one index per item")
        self.strict = strict
        self.on_skip = on_skip
        self.skipped: list[tuple[Path, str]] = []
        self.info = StreamInfo(name="images", fps=0.0, size=None, frame_count=len(self.items))

    def __iter__(self) -> Iterator[Frame]:
        for index, (path, name) in zip(self.indices, self.items):
            try:
                image = load_image(path)
            except ImageReadError as exc:
                self.skipped.append((path, str(exc)))
                if self.strict:
                    raise
                if self.on_skip is not None:
                    self.on_skip(path, str(exc))
                else:
                    log.warning("failed: %s", exc)
                continue
            yield Frame(index, image, name, path)


def _parse_camera(camera: str | int) -> int | None:
    """A camera's index from its name as given (``0``, ``"1"``); None for anything else (a file, a URL)."""
    if isinstance(camera, int):
        return camera
    return int(camera) if re.fullmatch(r"\d+", camera.strip()) else None


def is_stream_url(text: str) -> bool:
    """Whether ``text`` looks like a URL (``scheme://...``) rather than a file path."""
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) is not None


class VideoSource(FrameSource):
    """Frames of a video file, a stream URL (``rtsp://``, ``http://`` ...) or a camera (an integer index).

    The source is opened and its first selected frame decoded in the constructor, so an unusable input fails before
    any work starts. A file that ends before the frame count in its header is reported as truncated (``VideoError``
    raised from the iterator).
    """

    def __init__(self, source: str | Path | int, frames: FrameRange = FrameRange()) -> None:
        self.frames = frames
        camera = _parse_camera(source) if not isinstance(source, Path) else None
        self.camera = camera
        text = str(source)
        self.live = camera is not None or is_stream_url(text)
        if camera is not None:
            self.label = f"camera {camera}"
            self.cap = cv2.VideoCapture(camera)
            if not self.cap.isOpened():
                raise CameraError(f"cannot open camera {camera} (no such device, or it is busy)")
            name = f"camera{camera}"
        elif is_stream_url(text):
            self.label = text
            self.cap = cv2.VideoCapture(text)
            if not self.cap.isOpened():
                raise VideoError(f"cannot open stream {text}")
            name = _stream_name(text)
        else:
            path = Path(text)
            self.label = str(path)
            if not path.is_file():
                raise VideoError(not_found(path, "video file"))
            self.cap = cv2.VideoCapture(str(path))
            if not self.cap.isOpened():
                raise VideoError(f"not a readable video: {path}")
            name = path.stem
        total = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT)) if not self.live else 0
        self.total = total if total > 0 else None
        fps = float(self.cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.source_fps = fps if 0 < fps < 1000 else 0.0
        self._position = 0
        if self.total is not None and frames.start >= self.total:
            self.cap.release()
            raise VideoError(f"{self.label} has {self.total} frames: nothing to read from frame {frames.start} on")
        self._pending = self._advance_to(frames.start)
        if self._pending is None:
            self.cap.release()
            if camera is not None:
                raise CameraError(f"camera {camera} opened but delivered no frame")
            where = f" at frame {frames.start}" if frames.start else ""
            raise VideoError(f"no frame could be decoded from {self.label}{where}: not a video, or corrupt")
        height, width = self._pending.shape[:2]
        self.info = StreamInfo(
            name=name,
            fps=self.source_fps / frames.step if self.source_fps else 0.0,
            size=(width, height),
            frame_count=None if self.live else frames.count(self.total),
            live=self.live,
        )

    def _advance_to(self, index: int) -> np.ndarray | None:
        """Skip (grab without decoding colour) to frame ``index`` and read it; None at the end of the stream."""
        while self._position < index:
            if not self.cap.grab():
                return None
            self._position += 1
        ok, image = self.cap.read()
        if not ok or image is None:
            return None
        self._position += 1
        return image

    def __iter__(self) -> Iterator[Frame]:
        index = self.frames.start
        produced = 0
        image = self._pending
        self._pending = None
        started = time.monotonic()
        while image is not None:
            produced += 1
            name = f"{self.info.name}_{index:012d}"
            if self.live:
                stamp: float | None = time.monotonic() - started
            else:
                stamp = index / self.source_fps if self.source_fps else None
            yield Frame(index, image, name, timestamp=stamp)
            index += self.frames.step
            if self.frames.end is not None and index >= self.frames.end:
                return
            image = self._advance_to(index)
        expected = self.info.frame_count
        # container frame counts can be estimates (duration x rate); only a clear shortfall means truncation
        if expected is not None and produced < expected - max(1, expected // 100):
            raise VideoError(f"{self.label} ended after {produced} of {expected} frames: "
                             "the file is truncated or corrupt")

    def close(self) -> None:
        self.cap.release()
