"""Footage for ``train --recipe adapt``: frames decoded and downscaled once into a cache, and the self-teacher.

A video is sampled by frame index (every ``step``-th frame from 0, :class:`openpose_py.video.FrameRange`); a folder's
images are taken in name order, their position being their index. Each frame is stored once as a JPEG whose longer
side is at most ``max_side`` pixels (``frames/<index>.jpg`` in the cache folder), so that training steps decode a
small picture instead of a 1080p video frame. ``frames.json`` records what the cache was made from (the source's path,
size and modification time, the step and the size): a cache made from anything else is made again.

The self-teacher (:func:`self_teacher_json`) runs a :class:`~openpose_py.inference.PoseEstimator` (multi-scale and
flip, as configured) on the cached frames and writes OpenPose JSON per frame into ``teacher-<tag>/`` of the cache; a
frame whose JSON is there already is not run again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ..atomic import write_bytes_atomic
from ..errors import DatasetError, ImageReadError, VideoError
from ..images import load_image, write_image
from ..results import Person, openpose_json, write_openpose_json
from ..video.sources import IMAGE_EXTENSIONS, FrameRange, ImageSource, VideoSource, expand_image_paths

__all__ = ["FootageFrame", "cache_frames", "self_teacher_json", "FRAMES_MANIFEST"]

log = logging.getLogger(__name__)

FRAMES_MANIFEST = "frames.json"
_JPEG_QUALITY = 95


@dataclass(frozen=True, slots=True)
class FootageFrame:
    """One cached frame: its index in the source, its name there (stem), the cached file (relative to the cache's
    ``frames`` folder), its cached size and the factor from source pixels to cached pixels."""

    index: int
    stem: str
    file_name: str
    width: int
    height: int
    scale: float


def _signature(source: Path, step: int, max_side: int) -> dict[str, object]:
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        stamp = [len(files), sum(p.stat().st_size for p in files), max((p.stat().st_mtime_ns for p in files),
                                                                       default=0)]
    else:
        stat = source.stat()
        stamp = [stat.st_size, stat.st_mtime_ns]
    return {"source": str(source.resolve()), "stamp": stamp, "step": step, "max_side": max_side}


def _frames(source: Path, step: int):
    if source.is_dir():
        try:
            items = expand_image_paths([source])[::step]
        except ImageReadError as exc:
            raise DatasetError(str(exc)) from exc
        # the position in the folder's name order is the index; the stem (without sub-folders) names it
        return ImageSource([(p, Path(name).name) for p, name in items], strict=True,
                           indices=range(0, len(items) * step, step))
    if not source.is_file():
        raise DatasetError(f"no such video file or image folder: {source}")
    try:
        return VideoSource(source, FrameRange(step=step))
    except VideoError as exc:
        raise DatasetError(str(exc)) from exc


def cache_frames(source: str | Path, cache: str | Path, *, step: int = 1, max_side: int = 960) -> list[FootageFrame]:
    """The frames of a video or image folder, decoded and downscaled once into ``cache/frames`` (reused while the
    source and options are the same).

    Raises:
        DatasetError: an unreadable source, or one without frames.
    """
    source, cache = Path(source), Path(cache)
    if step < 1 or max_side < 16:
        raise DatasetError(f"frame step must be >= 1 and the frames' longer side >= 16, got {step} and {max_side}")
    signature = _signature(source, step, max_side) if source.exists() else None
    manifest = cache / FRAMES_MANIFEST
    if signature is not None and manifest.is_file():
        stored = json.loads(manifest.read_text())
        if stored.get("signature") == signature and all((cache / "frames" / f["file_name"]).is_file()
                                                       for f in stored["frames"]):
            return [FootageFrame(**f) for f in stored["frames"]]
    out: list[FootageFrame] = []
    (cache / "frames").mkdir(parents=True, exist_ok=True)
    try:
        with _frames(source, step) as frames:
            for frame in frames:
                height, width = frame.image.shape[:2]
                scale = min(1.0, max_side / max(height, width))
                image = frame.image if scale == 1.0 else cv2.resize(
                    frame.image, (max(1, round(width * scale)), max(1, round(height * scale))),
                    interpolation=cv2.INTER_AREA)
                name = f"{frame.index:08d}.jpg"
                write_image(cache / "frames" / name, image, (cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY))
                stem = frame.path.stem if frame.path is not None else frame.name
                out.append(FootageFrame(frame.index, stem, name, image.shape[1], image.shape[0],
                                        image.shape[1] / width))
    except (VideoError, ImageReadError) as exc:
        raise DatasetError(str(exc)) from exc
    if not out:
        raise DatasetError(f"no frames in {source}")
    write_bytes_atomic(manifest, json.dumps({"signature": signature,
                                             "frames": [_as_dict(f) for f in out]}).encode())
    log.info("cached %d frames of %s in %s", len(out), source, cache)
    return out


def _as_dict(frame: FootageFrame) -> dict[str, object]:
    return {name: getattr(frame, name) for name in FootageFrame.__slots__}


def self_teacher_json(frames: list[FootageFrame], cache: str | Path, tag: str,
                      estimator: Callable[[np.ndarray], list[Person]]) -> Path:
    """Run ``estimator`` (the teacher) on every cached frame without a JSON file in ``cache/teacher-<tag>`` and write
    one there (``<stem>_keypoints.json``, coordinates in the cached frame's pixels); returns that folder."""
    folder = Path(cache) / f"teacher-{tag}"
    folder.mkdir(parents=True, exist_ok=True)
    done = 0
    for frame in frames:
        path = folder / f"{frame.stem}_keypoints.json"
        if path.is_file():
            continue
        people = estimator(load_image(Path(cache) / "frames" / frame.file_name))
        write_openpose_json(path, openpose_json(people))
        done += 1
    log.info("self-teacher %s: %d frames run, %d cached", tag, done, len(frames) - done)
    return folder
