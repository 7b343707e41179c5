"""Output sinks, fed :class:`FrameResult` objects in frame order from one thread: OpenPose JSON files
(:class:`JsonSink`), rendered images (:class:`ImageSink`), heatmap/PAF pictures (:class:`MapsSink`), a rendered video
(:class:`VideoSink`) and a COCO results file (:class:`CocoSink`).

Every file is written atomically, and output directories are probed for writability when a sink is built, before any
network runs.
"""

from __future__ import annotations

import json
import os
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ...errors import OutputError, VideoError
from ...render import Painter, RenderStyle, maps_picture
from ...results import Person, coco_results, openpose_json, write_openpose_json
from ...skeleton import Skeleton
from ...atomic import claim_tempfile, ensure_writable_dir, publish_file, remove_unclaimed, write_bytes_atomic
from ...images import write_image
from ..sources import Frame, StreamInfo

if TYPE_CHECKING:
    from ...inference import NetworkMaps

__all__ = [
    "VIDEO_FOURCC",
    "FrameResult",
    "KeypointScale",
    "FrameSink",
    "JsonSink",
    "ImageSink",
    "MapsSink",
    "VideoSink",
    "CocoSink",
]

#: Video file extensions :class:`VideoSink` writes, with the codec (FourCC) used for each. The pip OpenCV wheels
#: cannot encode H.264 (avc1), so MPEG-4 part 2 (mp4v) it is; .avi gets Motion-JPEG, which every player reads.
VIDEO_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "mp4v"}
_DEFAULT_FPS = 30.0


@dataclass(frozen=True, slots=True)
class FrameResult:
    """What the estimator found in one frame; ``part_candidates``/``maps`` only when a sink asked for them."""

    frame: Frame
    people: tuple[Person, ...]
    part_candidates: tuple[np.ndarray, ...] | None = None
    maps: "NetworkMaps | None" = None


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


class FrameSink(ABC):
    """Consumes results in frame order, from one thread. Per-frame files stay when a run fails (finished work is
    kept); a sink whose output is one file (a video, a table) publishes it only on ``close(keep=True)``."""

    needs_candidates: bool = False
    needs_maps: bool = False

    def open(self, info: StreamInfo) -> None:
        """Called once before the first frame."""

    @abstractmethod
    def write(self, result: FrameResult) -> None: ...

    def close(self, keep: bool = True) -> None:
        """Finish the output; ``keep=False`` (the run failed) discards a sink's unpublished single-file output."""


class _FileSink(FrameSink):
    """A sink writing one complete file per frame under a directory."""

    suffix = ""

    def __init__(self, directory: str | Path) -> None:
        self.directory = ensure_writable_dir(directory)

    def path_for(self, frame: Frame) -> Path:
        path = self.directory / f"{frame.name}{self.suffix}"
        if path.parent != self.directory:
            ensure_writable_dir(path.parent)
        return path


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
        write_openpose_json(path, doc)


class ImageSink(_FileSink):
    """The frame with its skeletons drawn, ``<frame name>_rendered.png`` (OpenPose's ``--write_images`` name)."""

    def __init__(self, directory: str | Path, style: Painter = RenderStyle(), *, extension: str = ".png") -> None:
        super().__init__(directory)
        self.style = style
        self.suffix = f"_rendered{extension}"

    def write(self, result: FrameResult) -> None:
        path = self.path_for(result.frame)
        write_image(path, self.style.draw(result.frame.image, result.people))


class MapsSink(_FileSink):
    """A heatmap/PAF picture per frame (:func:`render.maps_picture`), ``<frame name>_maps.jpg``.

    The picture has the maps' resolution: the frame's, or for frames over the estimator's ``max_map_pixels`` the
    frame scaled down to the maps' grid (:class:`~openpose_py.inference.NetworkMaps`).
    """

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
        image = result.frame.image
        grid = maps.heatmaps.shape[:0:-1]  # (w, h)
        if image.shape[1::-1] != grid:
            image = cv2.resize(image, grid, interpolation=cv2.INTER_AREA)
        picture = maps_picture(image, maps.heatmaps, maps.pafs, self.skeleton)
        write_image(path, picture, (cv2.IMWRITE_JPEG_QUALITY, 92))


class VideoSink(FrameSink):
    """A rendered video of the source's size and rate, written under a temporary name and renamed when closed.

    ``close(keep=True)`` (end of input, Ctrl-C, or a failure after some frames) finalises the file, reads it back and
    publishes it only if it holds every frame written (the codec does not report a failed write, a full disk say);
    otherwise it is deleted and :class:`OutputError` raised. ``close(keep=False)`` deletes it.
    """

    def __init__(self, path: str | Path, style: Painter = RenderStyle(), *, fourcc: str | None = None,
                 fps: float | None = None) -> None:
        self.path = Path(path)
        ext = self.path.suffix.lower()
        if fourcc is None and ext not in VIDEO_FOURCC:
            raise OutputError(f"cannot write video {self.path}: use one of "
                              f"{', '.join(sorted(VIDEO_FOURCC))} (or give a fourcc)")
        if self.path.is_dir():
            raise OutputError(f"cannot write video {self.path}: it is a folder")
        self.fourcc = fourcc or VIDEO_FOURCC[ext]
        self.style = style
        self.fps = fps
        ensure_writable_dir(self.path.parent)
        self._tmp: Path | None = None
        self._claim: int | None = None  # the lock that marks _tmp as this live sink's (atomic.claim_tempfile)
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        self.frames = 0

    def open(self, info: StreamInfo) -> None:
        self._rate = self.fps or info.fps or _DEFAULT_FPS
        if info.size is not None:
            self._start(info.size)

    @staticmethod
    def leftovers(path: str | Path) -> list[Path]:
        """The temporary files of sinks writing ``path``: the ``mkstemp`` names :meth:`_start` gives, of live sinks
        and of those whose process was killed (SIGKILL, a node lost) before it could finish or delete them."""
        path = Path(path)
        pattern = re.compile(re.escape(f".{path.stem}.") + r"[a-z0-9_]{8}" + re.escape(path.suffix))
        try:
            return sorted(p for p in path.parent.iterdir() if pattern.fullmatch(p.name) and p.is_file())
        except OSError:  # no such folder (yet): nothing left
            return []

    def _start(self, size: tuple[int, int]) -> None:
        # a killed earlier run's, which nothing else would ever remove; a run writing the same output now keeps its own
        remove_unclaimed(self.leftovers(self.path))
        self._tmp, self._claim = claim_tempfile(self.path.parent, f".{self.path.stem}.", self.path.suffix)
        self._size = size
        self._writer = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter_fourcc(*self.fourcc), self._rate,
                                       self.style.output_size(size))
        if not self._writer.isOpened():
            self._discard()
            raise OutputError(f"cannot open a {self.fourcc} video writer for {self.path}")

    def write(self, result: FrameResult) -> None:
        height, width = result.frame.image.shape[:2]
        if self._writer is None:
            self._start((width, height))
        if (width, height) != self._size:
            raise VideoError(f"frame {result.frame.index} is {width}x{height}, the first frame was "
                             f"{self._size[0]}x{self._size[1]}")
        self._writer.write(self.style.draw(result.frame.image, result.people))
        self.frames += 1

    def _discard(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None
        self._release_claim()

    def _release_claim(self) -> None:
        if self._claim is not None:
            os.close(self._claim)
            self._claim = None

    def close(self, keep: bool = True) -> None:
        if not keep or self.frames == 0:
            self._discard()
            return
        if self._writer is not None and self._tmp is not None:
            self._writer.release()
            self._writer = None
            problem = _unreadable_video(self._tmp, self.frames)
            if problem is not None:
                self._discard()
                raise OutputError(f"cannot write video {self.path}: {problem}; nothing was published")
            try:
                publish_file(self._tmp, self.path)
                self._tmp = None
            except OSError as exc:  # the name was taken meanwhile by a folder, or the folder lost its permissions
                raise OutputError(f"cannot write video {self.path}: {exc.strerror or exc}; nothing was published") \
                    from exc
            finally:
                self._discard()  # lets go of the claim, and of the temporary if it could not be published


def _unreadable_video(path: Path, frames: int) -> str | None:
    """Why the video just written at ``path`` is not the ``frames``-frame file it should be, or None if it is."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"its temporary file {path.name} was removed by something else ({exc.strerror})"
    if size == 0:
        return "the file is empty (is the disk full?)"
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened() or not cap.read()[0]:
            return "the written file cannot be read back (is the disk full?)"
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()
    if count != frames:
        return f"the written file holds {count} of {frames} frames (is the disk full?)"
    return None


class CocoSink(FrameSink):
    """Collects COCO keypoint results and writes them as one JSON list when closed (also after Ctrl-C).

    The image id is the number at the end of the image file name (``COCO_val2014_000000000192`` -> 192), else the
    frame index. Without a ``path`` it only collects: :attr:`rows` (frame index, entries) are then merged with other
    processes' and written by :meth:`write_rows`.
    """

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            ensure_writable_dir(self.path.parent)
        self.rows: list[tuple[int, list[dict[str, Any]]]] = []

    def write(self, result: FrameResult) -> None:
        match = re.search(r"(\d+)$", Path(result.frame.name).name)
        image_id = int(match.group(1)) if match else result.frame.index
        self.rows.append((result.frame.index, coco_results(result.people, image_id)))

    def close(self, keep: bool = True) -> None:
        if keep and self.path is not None:
            self.write_rows(self.path, self.rows)

    @staticmethod
    def write_rows(path: Path, rows: list[tuple[int, list[dict[str, Any]]]]) -> None:
        """Write the entries of ``rows`` (from any number of sinks) in frame-index order, atomically."""
        entries = [entry for _, batch in sorted(rows, key=lambda row: row[0]) for entry in batch]
        write_bytes_atomic(path, json.dumps(entries).encode("ascii"))
