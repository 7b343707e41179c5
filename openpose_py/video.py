"""Frame sources, output sinks, and the pipelined pose run that joins them.

Sources yield :class:`Frame` objects: image files (:class:`ImageSource`), video files, stream URLs and cameras
(:class:`VideoSource`). Sinks consume :class:`FrameResult` objects: OpenPose JSON files (:class:`JsonSink`), rendered
images (:class:`ImageSink`), heatmap/PAF pictures (:class:`MapsSink`), a rendered video (:class:`VideoSink`) and a COCO
results file (:class:`CocoSink`). :func:`run_video` reads frames in one thread, runs the estimator in the calling
thread and feeds the sinks in a third, with bounded queues between them.

Every file is written atomically (a temporary name in the target directory, then ``os.replace``), and output
directories are probed for writability when a sink is built, before any network runs.
"""

from __future__ import annotations

import glob
import json
import logging
import numbers
import os
import queue
import re
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

import cv2
import numpy as np

from .errors import CameraError, ImageReadError, OutputError, VideoError
from .preprocess import load_image
from .render import RenderStyle, draw_people, maps_picture
from .results import Person, coco_results, openpose_json
from .skeleton import Skeleton

if TYPE_CHECKING:
    from .inference import NetworkMaps, PoseEstimator

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_FOURCC",
    "FrameRange",
    "Frame",
    "StreamInfo",
    "FrameResult",
    "RunReport",
    "KeypointScale",
    "FrameSource",
    "ImageSource",
    "VideoSource",
    "is_stream_url",
    "expand_image_paths",
    "FrameSink",
    "JsonSink",
    "ImageSink",
    "MapsSink",
    "VideoSink",
    "CocoSink",
    "format_openpose_json",
    "write_json_atomic",
    "write_image_atomic",
    "ensure_writable_dir",
    "run_video",
]

log = logging.getLogger(__name__)

#: File extensions (lower case) that folder and glob expansion treat as images.
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pgm", ".ppm"})
#: Video file extensions :class:`VideoSink` writes, with the codec (FourCC) used for each. The pip OpenCV wheels
#: cannot encode H.264 (avc1), so MPEG-4 part 2 (mp4v) it is; .avi gets Motion-JPEG, which every player reads.
VIDEO_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "mp4v"}
_DEFAULT_FPS = 30.0


# ---- values ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FrameRange:
    """Which frames of a video to process: indices ``start, start + step, ...`` below ``end`` (None = to the end)."""

    start: int = 0
    end: int | None = None
    step: int = 1

    def __post_init__(self) -> None:
        if self.start < 0:
            raise ValueError("start must be >= 0")
        if self.step < 1:
            raise ValueError("step must be >= 1")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be greater than start ({self.start})")

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
    in folders); ``path`` is the image file, if any.
    """

    index: int
    image: np.ndarray
    name: str
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a source knows before its first frame: its name, rate, frame size and length."""

    name: str
    fps: float  # rate of the frames the source yields (after ``step``); 0 when unknown
    size: tuple[int, int] | None  # (width, height) when every frame has it
    frame_count: int | None  # frames the source will yield, when known
    live: bool = False  # a camera or network stream


@dataclass(frozen=True, slots=True)
class FrameResult:
    """What the estimator found in one frame; ``part_candidates``/``maps`` only when a sink asked for them."""

    frame: Frame
    people: tuple[Person, ...]
    part_candidates: tuple[np.ndarray, ...] | None = None
    maps: "NetworkMaps | None" = None


@dataclass(frozen=True, slots=True)
class RunReport:
    """Outcome of :func:`run_video`: frames passed through every sink, people found, wall-clock seconds."""

    frames: int
    people: int
    seconds: float
    interrupted: bool = False

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class KeypointScale(IntEnum):
    """OpenPose's ``--keypoint_scale`` modes that make sense without a network resolution."""

    PIXELS = 0  # source-image pixels
    UNIT = 3  # [0, 1]: x / (width - 1), y / (height - 1)
    SYMMETRIC = 4  # [-1, 1]: 2 x / (width - 1) - 1

    def transform(self, width: int, height: int) -> tuple[tuple[float, float], float]:
        """(scale, offset) for :func:`openpose_json` on a ``width`` x ``height`` image."""
        if self is KeypointScale.PIXELS:
            return (1.0, 1.0), 0.0
        sx, sy = 1.0 / max(width - 1, 1), 1.0 / max(height - 1, 1)
        if self is KeypointScale.UNIT:
            return (sx, sy), 0.0
        return (2.0 * sx, 2.0 * sy), -1.0


# ---- atomic writing ------------------------------------------------------------------------------------------------
def ensure_writable_dir(directory: str | Path) -> Path:
    """Create ``directory`` if needed and prove a file can be created in it, or raise :class:`OutputError`."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".openpose-py-probe-"):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write to output directory {directory}: {exc.strerror or exc}") from exc
    return directory


def _file_mode() -> int:
    """Permissions of a new ordinary file under the process umask (mkstemp's 0600 would hide outputs from others)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise


def _format_number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"not a JSON number: {value!r}")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    # C++ streams print floats with 6 significant digits and no trailing zeros, which is what %g does
    return f"{float(value):.6g}" if np.isfinite(value) else "0"


def format_openpose_json(doc: Any) -> str:
    """Serialise an :func:`openpose_json` document byte-for-byte as OpenPose writes it.

    Compact (no spaces, no trailing newline), numbers with 6 significant digits (``0`` not ``0.0``), keys in the
    dict's order.
    """
    if isinstance(doc, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{format_openpose_json(v)}" for k, v in doc.items()) + "}"
    if isinstance(doc, (list, tuple)):
        return "[" + ",".join(format_openpose_json(v) for v in doc) + "]"
    if isinstance(doc, str):
        return json.dumps(doc)
    return _format_number(doc)


def write_json_atomic(path: str | Path, doc: Any) -> None:
    """Write an OpenPose JSON document (see :func:`format_openpose_json`) atomically."""
    _write_bytes_atomic(Path(path), format_openpose_json(doc).encode("ascii"))


def write_image_atomic(path: str | Path, image: np.ndarray, params: Sequence[int] = ()) -> None:
    """Encode ``image`` (uint8 BGR) in the format of ``path``'s extension and write it atomically."""
    path = Path(path)
    ok, buf = cv2.imencode(path.suffix or ".png", image, list(params))
    if not ok:
        raise OutputError(f"cannot encode an image as {path.suffix!r} for {path}")
    _write_bytes_atomic(path, buf.tobytes())


# ---- sources -------------------------------------------------------------------------------------------------------
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
    found: dict[Path, str] = {}
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_file():
            found.setdefault(path, path.stem)
        elif path.is_dir():
            images = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
            if not images:
                raise ImageReadError(f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) in folder {path}")
            for p in images:
                found.setdefault(p, p.relative_to(path).with_suffix("").as_posix())
        elif glob.has_magic(text):
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            files = [m for m in matches if m.is_file() and m.suffix.lower() in IMAGE_EXTENSIONS]
            if not files:
                raise ImageReadError(f"no images match {text!r}")
            for p in files:
                found.setdefault(p, p.stem)
        else:
            raise ImageReadError(f"no such file or folder: {text}")
    by_name: dict[str, Path] = {}
    for p, name in found.items():
        if name in by_name:
            raise ImageReadError(f"{by_name[name]} and {p} would write outputs under the same name {name!r}")
        by_name[name] = p
    return list(found.items())


class ImageSource(FrameSource):
    """Image files as frames, in the given order.

    An unreadable file is skipped and remembered in :attr:`skipped`, with a warning: passed to ``on_skip(path,
    reason)`` when given (from the reader thread), else logged. With ``strict`` it raises :class:`ImageReadError`.
    """

    def __init__(self, items: Sequence[tuple[Path, str]] | Sequence[str | Path], *, strict: bool = False,
                 on_skip: Callable[[Path, str], None] | None = None) -> None:
        self.items = [(Path(i[0]), i[1]) if isinstance(i, tuple) else (Path(i), Path(i).stem) for i in items]
        self.strict = strict
        self.on_skip = on_skip
        self.skipped: list[tuple[Path, str]] = []
        self.info = StreamInfo(name="images", fps=0.0, size=None, frame_count=len(self.items))

    def __iter__(self) -> Iterator[Frame]:
        for index, (path, name) in enumerate(self.items):
            try:
                image = load_image(path)
            except ImageReadError as exc:
                if self.strict:
                    raise
                self.skipped.append((path, str(exc)))
                if self.on_skip is not None:
                    self.on_skip(path, str(exc))
                else:
                    log.warning("skipping %s", exc)
                continue
            yield Frame(index, image, name, path)


def _parse_camera(spec: str | int) -> int | None:
    if isinstance(spec, int):
        return spec
    return int(spec) if re.fullmatch(r"\d+", spec.strip()) else None


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
            name = Path(text.split("?")[0].rstrip("/")).stem or "stream"
        else:
            path = Path(text)
            self.label = str(path)
            if not path.is_file():
                raise VideoError(f"no such video file: {path}")
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
        while image is not None:
            produced += 1
            name = f"{self.info.name}_{index:012d}"
            yield Frame(index, image, name)
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


# ---- sinks ---------------------------------------------------------------------------------------------------------
class FrameSink(ABC):
    """Consumes results in frame order, from one thread. ``close(keep=False)`` removes what the run wrote."""

    needs_candidates: bool = False
    needs_maps: bool = False

    def open(self, info: StreamInfo) -> None:
        """Called once before the first frame."""

    @abstractmethod
    def write(self, result: FrameResult) -> None: ...

    def close(self, keep: bool = True) -> None:
        """Finish the output; ``keep=False`` (the run failed) deletes the files this sink wrote."""


class _FileSink(FrameSink):
    """A sink writing one file per frame under a directory, remembering them so a failed run can remove them."""

    suffix = ""

    def __init__(self, directory: str | Path) -> None:
        self.directory = ensure_writable_dir(directory)
        self.written: list[Path] = []

    def path_for(self, frame: Frame) -> Path:
        path = self.directory / f"{frame.name}{self.suffix}"
        if path.parent != self.directory:
            ensure_writable_dir(path.parent)
        return path

    def close(self, keep: bool = True) -> None:
        if not keep:
            for path in self.written:
                path.unlink(missing_ok=True)
            self.written.clear()


class JsonSink(_FileSink):
    """One OpenPose 1.3 JSON file per frame, ``<frame name>_keypoints.json``."""

    suffix = "_keypoints.json"

    def __init__(self, directory: str | Path, *, keypoint_scale: KeypointScale = KeypointScale.PIXELS,
                 part_candidates: bool = False) -> None:
        super().__init__(directory)
        self.keypoint_scale = KeypointScale(keypoint_scale)
        self.needs_candidates = part_candidates

    def write(self, result: FrameResult) -> None:
        height, width = result.frame.image.shape[:2]
        scale, offset = self.keypoint_scale.transform(width, height)
        doc = openpose_json(result.people, part_candidates=result.part_candidates if self.needs_candidates else None,
                            scale=scale, offset=offset)
        path = self.path_for(result.frame)
        write_json_atomic(path, doc)
        self.written.append(path)


class ImageSink(_FileSink):
    """The frame with its skeletons drawn, ``<frame name>_rendered.png`` (OpenPose's ``--write_images`` name)."""

    def __init__(self, directory: str | Path, style: RenderStyle = RenderStyle(), *, extension: str = ".png") -> None:
        super().__init__(directory)
        self.style = style
        self.suffix = f"_rendered{extension}"

    def write(self, result: FrameResult) -> None:
        path = self.path_for(result.frame)
        write_image_atomic(path, draw_people(result.frame.image, result.people, self.style))
        self.written.append(path)


class MapsSink(_FileSink):
    """A heatmap/PAF picture per frame (:func:`render.maps_picture`), ``<frame name>_maps.jpg``."""

    suffix = "_maps.jpg"
    needs_maps = True

    def __init__(self, directory: str | Path, skeleton: Skeleton) -> None:
        super().__init__(directory)
        self.skeleton = skeleton

    def write(self, result: FrameResult) -> None:
        maps = result.maps
        if maps is None:
            raise ValueError("MapsSink needs results computed with maps")
        path = self.path_for(result.frame)
        picture = maps_picture(result.frame.image, maps.heatmaps, maps.pafs, self.skeleton)
        write_image_atomic(path, picture, (cv2.IMWRITE_JPEG_QUALITY, 92))
        self.written.append(path)


class VideoSink(FrameSink):
    """A rendered video of the source's size and rate, written under a temporary name and renamed when closed.

    ``close(keep=True)`` (end of input or Ctrl-C) finalises a playable file; ``close(keep=False)`` deletes it.
    """

    def __init__(self, path: str | Path, style: RenderStyle = RenderStyle(), *, fourcc: str | None = None,
                 fps: float | None = None) -> None:
        self.path = Path(path)
        ext = self.path.suffix.lower()
        if fourcc is None and ext not in VIDEO_FOURCC:
            raise OutputError(f"cannot write video {self.path}: use one of "
                              f"{', '.join(sorted(VIDEO_FOURCC))} (or give a fourcc)")
        self.fourcc = fourcc or VIDEO_FOURCC[ext]
        self.style = style
        self.fps = fps
        ensure_writable_dir(self.path.parent)
        self._tmp: Path | None = None
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        self.frames = 0

    def open(self, info: StreamInfo) -> None:
        self._rate = self.fps or info.fps or _DEFAULT_FPS
        if info.size is not None:
            self._start(info.size)

    def _start(self, size: tuple[int, int]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.stem}.", suffix=self.path.suffix)
        os.close(fd)
        self._tmp = Path(tmp)
        self._size = size
        self._writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*self.fourcc), self._rate, size)
        if not self._writer.isOpened():
            self._discard()
            raise OutputError(f"cannot open a {self.fourcc} video writer for {self.path}")

    def write(self, result: FrameResult) -> None:
        height, width = result.frame.image.shape[:2]
        if self._writer is None:
            self._start((width, height))
        if (width, height) != self._size:
            raise VideoError(f"frame {result.frame.index} is {width}x{height}, the video is {self._size[0]}x"
                             f"{self._size[1]}")
        self._writer.write(draw_people(result.frame.image, result.people, self.style))
        self.frames += 1

    def _discard(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None

    def close(self, keep: bool = True) -> None:
        if not keep or self.frames == 0:
            self._discard()
            return
        if self._writer is not None and self._tmp is not None:
            self._writer.release()
            self._writer = None
            os.chmod(self._tmp, _FILE_MODE)
            os.replace(self._tmp, self.path)
            self._tmp = None


class CocoSink(FrameSink):
    """Collects COCO keypoint results and writes them as one JSON list when closed (also after Ctrl-C).

    The image id is the number at the end of the image file name (``COCO_val2014_000000000192`` -> 192), else the
    frame index.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        ensure_writable_dir(self.path.parent)
        self.entries: list[dict[str, Any]] = []

    def write(self, result: FrameResult) -> None:
        match = re.search(r"(\d+)$", Path(result.frame.name).name)
        image_id = int(match.group(1)) if match else result.frame.index
        self.entries += coco_results(result.people, image_id)

    def close(self, keep: bool = True) -> None:
        if keep:
            _write_bytes_atomic(self.path, json.dumps(self.entries).encode("ascii"))


# ---- the pipeline --------------------------------------------------------------------------------------------------
_END = object()


@dataclass
class _Failure:
    error: BaseException


@dataclass
class _Pipeline:
    """State shared by the reader, inference and writer threads of one run."""

    stop: threading.Event
    frames_in: queue.Queue = field(default_factory=queue.Queue)
    results: queue.Queue = field(default_factory=queue.Queue)
    writer_error: BaseException | None = None
    keep: bool = True  # set by the inference thread before the end marker: False when the run failed
    written: int = 0
    people: int = 0

    def put(self, q: queue.Queue, item: object) -> bool:
        """Put unless the run is stopping; a full queue is retried so that a stop request is noticed."""
        while not self.stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False


def _reader(source: FrameSource, pipe: _Pipeline, latest_only: bool) -> None:
    try:
        for frame in source:
            if pipe.stop.is_set():
                return
            if latest_only:
                _put_dropping_oldest(pipe.frames_in, frame)
            elif not pipe.put(pipe.frames_in, frame):
                return
    except BaseException as exc:  # handed to the inference thread, which raises it
        pipe.put(pipe.frames_in, _Failure(exc))
        return
    pipe.put(pipe.frames_in, _END)


def _put_dropping_oldest(q: queue.Queue, item: object) -> None:
    """Queue ``item``, discarding the oldest waiting frame when full (only the reader puts, so it cannot starve)."""
    while True:
        try:
            q.put_nowait(item)
            return
        except queue.Full:
            try:
                q.get_nowait()
            except queue.Empty:
                pass


def _writer(sinks: Sequence[FrameSink], info: StreamInfo, pipe: _Pipeline,
            progress: Callable[[FrameResult], None] | None) -> None:
    """Open, feed and close every sink, all from this one thread (GUI windows and codecs want a single thread)."""
    try:
        for sink in sinks:
            sink.open(info)
    except BaseException as exc:
        pipe.writer_error = exc
        pipe.stop.set()
    while True:
        item = pipe.results.get()
        if item is _END:
            break
        if pipe.writer_error is not None:
            continue  # drain so the inference thread never blocks on a full queue
        try:
            for sink in sinks:
                sink.write(item)
            pipe.written += 1
            pipe.people += len(item.people)
            if progress is not None:
                progress(item)
        except BaseException as exc:
            pipe.writer_error = exc
            pipe.stop.set()
    keep = pipe.keep and pipe.writer_error is None
    for sink in sinks:
        try:
            sink.close(keep=keep)
        except BaseException as exc:  # a sink that cannot finish is a failure of the run, reported once
            pipe.writer_error = pipe.writer_error or exc
            keep = False


def _infer(estimator: "PoseEstimator", frames: list[Frame], candidates: bool, maps: bool) -> list[FrameResult]:
    images = [f.image for f in frames]
    if candidates:
        detections = estimator.detect_batch(images)
        people = [d.people for d in detections]
        cands: list[tuple[np.ndarray, ...] | None] = [tuple(d.part_candidates) for d in detections]
    else:
        people = estimator.predict_batch(images)
        cands = [None] * len(frames)
    network_maps = [estimator.network_output(im) for im in images] if maps else [None] * len(frames)
    return [FrameResult(f, tuple(p), c, m) for f, p, c, m in zip(frames, people, cands, network_maps)]


def run_video(
    estimator: "PoseEstimator",
    source: FrameSource | str | Path | int,
    sinks: Sequence[FrameSink] = (),
    *,
    frames: FrameRange = FrameRange(),
    batch_size: int = 1,
    queue_size: int = 8,
    progress: Callable[[FrameResult], None] | None = None,
    stop: threading.Event | None = None,
    latest_only: bool = False,
) -> RunReport:
    """Estimate poses on every frame of ``source`` and hand the results to ``sinks``, in frame order.

    A reader thread decodes frames ahead (at most ``queue_size`` batches waiting), the calling thread runs the
    estimator on batches of ``batch_size`` frames, and a writer thread opens, feeds and closes the sinks. Ctrl-C
    (KeyboardInterrupt in the calling thread) or setting ``stop`` ends the run cleanly: frames already inferred are
    written, every sink is closed with its outputs kept, and the report says ``interrupted``. Any other error closes
    the sinks with their outputs removed and propagates.

    Args:
        estimator: a :class:`~openpose_py.inference.PoseEstimator` (anything with ``predict_batch``, and
            ``detect_batch`` / ``network_output`` when a sink needs candidates or maps).
        source: an open :class:`FrameSource` (not closed here), or a video path / URL / camera index opened with
            ``frames`` (and closed here).
        progress: called from the writer thread after each frame has gone through every sink.
        stop: an event another thread (or a sink, e.g. a window's quit key) sets to end the run early.
        latest_only: for live sources (cameras, streams): when inference falls behind, drop the oldest waiting frames
            so that what is processed stays current. Ignored for files, which are always processed frame by frame.

    Returns:
        A :class:`RunReport`.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    owned = not isinstance(source, FrameSource)
    src = VideoSource(source, frames) if owned else source
    need_candidates = any(s.needs_candidates for s in sinks)
    need_maps = any(s.needs_maps for s in sinks)
    # the run's own event: the caller's ``stop`` is only watched, never set here
    latest_only = latest_only and src.info.live
    # a live run keeps a single batch waiting, so the frame inferred next is at most one batch old
    waiting = batch_size if latest_only else queue_size * batch_size
    pipe = _Pipeline(threading.Event(), queue.Queue(waiting), queue.Queue(queue_size))
    requested = stop or threading.Event()
    started = time.perf_counter()
    interrupted = False
    failure: BaseException | None = None
    reader = threading.Thread(target=_reader, args=(src, pipe, latest_only), name="openpose-reader", daemon=True)
    writer = threading.Thread(target=_writer, args=(sinks, src.info, pipe, progress), name="openpose-writer",
                              daemon=True)
    try:
        writer.start()
        reader.start()
        done = False
        while not done and not pipe.stop.is_set() and not requested.is_set():
            batch: list[Frame] = []
            while len(batch) < batch_size:
                try:
                    item = pipe.frames_in.get(timeout=0.1)
                except queue.Empty:
                    if pipe.stop.is_set() or requested.is_set():  # the writer failed, or the caller asked to stop
                        break
                    continue
                if item is _END:
                    done = True
                    break
                if isinstance(item, _Failure):
                    raise item.error
                batch.append(item)
            if batch and not pipe.stop.is_set():
                for result in _infer(estimator, batch, need_candidates, need_maps):
                    pipe.put(pipe.results, result)
        interrupted = pipe.stop.is_set() or requested.is_set()
    except KeyboardInterrupt:
        interrupted = True
        log.info("interrupted; closing outputs")
    except BaseException as exc:
        failure = exc
    finally:
        pipe.stop.set()
        pipe.keep = failure is None
        if writer.ident is not None:
            # everything already queued is written first; the queue may be full, so this waits for room
            pipe.results.put(_END)
            writer.join()
        if reader.ident is not None:
            reader.join(timeout=5.0)
        if owned:
            src.close()
    if failure is None and pipe.writer_error is not None:
        failure = pipe.writer_error
    if failure is not None:
        raise failure
    report = RunReport(pipe.written, pipe.people, time.perf_counter() - started, interrupted)
    log.info("%d frames, %d people, %.1f frames/s%s", report.frames, report.people, report.fps,
             " (interrupted)" if interrupted else "")
    return report
