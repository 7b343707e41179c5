"""Per-camera OpenPose JSON folders, or synchronized videos -> 3-D people per frame, written as OpenPose JSON and one
TRC file per person.

Each camera folder holds one JSON file per frame (as ``openpose-py video --json-dir`` or OpenPose writes them);
frames are paired by their rank in name order, up to the shortest folder. A video is read frame by frame through a
pose estimator (2-D per view, then 3-D), frames paired by index up to the shortest video. Cameras are matched to
sources by name (folder name, video file stem) when every source is named after a camera of the calibration, else
taken in the calibration's order.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..atomic import ensure_writable_dir, file_identity
from ..results import Person, read_openpose_json, write_openpose_json
from ..skeleton import SKELETONS, Skeleton, get_skeleton
from .calibration_io import read_calibration
from .camera import Camera, MultiviewError
from .files import openpose_json_3d, write_trc
from .reconstruct import MultiviewConfig, Person3D, triangulate
from .tracking import Tracker3D, Tracker3DConfig

__all__ = ["TriangulateJob", "match_cameras", "frame_files", "detect_skeleton", "run_triangulate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TriangulateJob:
    """One ``triangulate`` run: where the inputs are, where the outputs go, and how to reconstruct."""

    calibration: Path
    camera_dirs: tuple[Path, ...]
    json_dir: Path
    trc_dir: Path | None = None  # default: json_dir
    rate: float | None = None  # frames per second; None: the videos' rate, or 30
    units: str = "m"
    skeleton: str | None = None  # None: from the number of values per person in the first file with people
    config: MultiviewConfig = field(default_factory=MultiviewConfig)
    tracking: Tracker3DConfig | None = field(default_factory=Tracker3DConfig)


def match_cameras(cameras: Sequence[Camera], dirs: Sequence[Path]) -> list[Camera]:
    """The camera of each source: by name (a folder's name, a video's stem) when all are camera names, else the
    calibration's order."""
    by_name = {c.name: c for c in cameras}
    names = [d.stem if d.is_file() else d.name for d in dirs]
    if all(n in by_name for n in names):
        return [by_name[n] for n in names]
    if len(dirs) != len(cameras):
        raise MultiviewError(f"{len(dirs)} camera sources for the {len(cameras)} cameras of the calibration "
                             f"({', '.join(by_name)}), and they are not named after them")
    return list(cameras)


def frame_files(directory: Path) -> list[Path]:
    """The JSON files of one camera folder, in name order."""
    if not directory.is_dir():
        raise MultiviewError(f"{directory}: not a folder of OpenPose JSON files")
    return sorted(p for p in directory.iterdir() if p.suffix.lower() == ".json" and p.is_file())


def detect_skeleton(files: Sequence[Path]) -> Skeleton:
    """The skeleton whose keypoint count fits ``pose_keypoints_2d`` of the first person found in ``files``."""
    by_count = {3 * s.num_keypoints: s for s in SKELETONS.values()}
    for path in files:
        try:
            people = json.loads(path.read_text()).get("people", [])
        except (OSError, ValueError, AttributeError) as exc:
            raise MultiviewError(f"cannot read {path}: {exc}") from None
        for entry in people:
            n = len(entry.get("pose_keypoints_2d", []))
            if n in by_count:
                return by_count[n]
            raise MultiviewError(f"{path}: {n} numbers per person fit no skeleton ({', '.join(SKELETONS)})")
    raise MultiviewError("no person in any camera's JSON: nothing to triangulate")


def _read(path: Path, skeleton: Skeleton) -> list[Person]:
    try:
        return read_openpose_json(path, skeleton)
    except ValueError as exc:
        raise MultiviewError(str(exc)) from None


def _json_views(dirs: Sequence[Path], skeleton_name: str | None) -> tuple[Iterator[list[list[Person]]], Skeleton]:
    files = [frame_files(d) for d in dirs]
    if min(len(fs) for fs in files) == 0:
        raise MultiviewError("a camera folder holds no JSON file")
    if len({len(fs) for fs in files}) > 1:
        log.warning("camera folders hold %s frames: pairing the first %d", [len(fs) for fs in files],
                    min(len(fs) for fs in files))
    skeleton = get_skeleton(skeleton_name) if skeleton_name else detect_skeleton([p for fs in files for p in fs])
    views = ([_read(fs[f], skeleton) for fs in files] for f in range(min(len(fs) for fs in files)))
    return views, skeleton


def _video_views(videos: Sequence[Path], estimator: Any) -> tuple[Iterator[list[list[Person]]], float]:
    """Each frame's people per video (``estimator(image)``), and the first video's frame rate (0 if unknown)."""
    from ..video import VideoSource

    sources = [VideoSource(v) for v in videos]

    def frames() -> Iterator[list[list[Person]]]:
        try:
            for group in zip(*sources):
                yield [estimator(frame.image) for frame in group]
        finally:
            for source in sources:
                source.close()

    return frames(), sources[0].info.fps


def _trc_tracks(frames: list[list[Person3D]], K: int) -> dict[int, tuple[int, np.ndarray]]:
    """Per track id: its first frame and its points (T, K, 3) from there to its last frame (NaN where unseen)."""
    spans: dict[int, list[int]] = {}
    for f, people in enumerate(frames):
        for p in people:
            spans.setdefault(p.track_id, [f, f])[1] = f
    tracks = {tid: (a, np.full((b - a + 1, K, 3), np.nan)) for tid, (a, b) in spans.items()}
    for f, people in enumerate(frames):
        for p in people:
            first, pts = tracks[p.track_id]
            pts[f - first] = p.points
    return tracks


def run_triangulate(job: TriangulateJob, estimator: Any = None) -> dict[str, int]:
    """Read (or detect, for videos, with ``estimator``), triangulate, track and write every frame; returns counts
    (frames, people, tracks)."""
    sources = [Path(d) for d in job.camera_dirs]
    outputs = {file_identity(d) for d in (job.json_dir, job.trc_dir) if d is not None} - {None}
    if any(file_identity(s) in outputs for s in sources):
        raise MultiviewError("an output folder is one of the camera sources: its 3-D files would mix with the 2-D")
    cameras = match_cameras(read_calibration(job.calibration), sources)
    rate = job.rate
    if all(s.is_dir() for s in sources):
        views, skeleton = _json_views(sources, job.skeleton)
    elif any(s.is_dir() for s in sources):
        raise MultiviewError("give one kind of camera source: folders of OpenPose JSON, or videos")
    elif estimator is None:
        raise MultiviewError("videos need a pose estimator for their 2-D people")
    else:
        skeleton = estimator.skeleton
        views, video_rate = _video_views(sources, estimator)
        rate = rate or video_rate or None
    rate = rate or 30.0
    json_dir = ensure_writable_dir(job.json_dir)
    trc_dir = ensure_writable_dir(job.trc_dir or job.json_dir)
    tracker = Tracker3D(job.tracking) if job.tracking is not None else None
    frames = []
    for f, people_per_view in enumerate(views):
        people = triangulate(people_per_view, cameras, job.config, skeleton)
        people = tracker.update(people, f / rate) if tracker is not None else people
        write_openpose_json(json_dir / f"{f:012d}_keypoints.json", openpose_json_3d(people))
        frames.append(people)
    tracks = _trc_tracks(frames, skeleton.num_keypoints) if tracker is not None else {}
    for tid, (first, points) in sorted(tracks.items()):
        write_trc(trc_dir / f"person_{tid}.trc", points, skeleton.keypoints, rate, job.units, first)
    return {"frames": len(frames), "people": sum(len(p) for p in frames), "tracks": len(tracks)}
