"""3-D outputs: OpenPose JSON with ``pose_keypoints_3d`` per person, and OpenSim's TRC marker files.

TRC (``PathFileType 4``, tab-separated): a header naming the data rate, frame and marker counts and the units, a row
of marker names (the skeleton's keypoint names), a row of ``X1 Y1 Z1 ...`` labels, a blank line, then one row per
frame: ``Frame#`` (from 1), ``Time`` (seconds), and x y z per marker, empty where the marker is missing (OpenSim
reads an empty field as NaN).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..atomic import write_bytes_atomic
from ..results import OPENPOSE_JSON_VERSION
from .reconstruct import Person3D

__all__ = ["openpose_json_3d", "trc_text", "write_trc", "TRC_UNITS"]

TRC_UNITS = ("m", "mm", "cm")
_EMPTY_KEYS = ("pose_keypoints_2d", "face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d")


def openpose_json_3d(people: Sequence[Person3D]) -> dict[str, Any]:
    """The OpenPose JSON document of one frame of 3-D people: ``person_id`` (the 3-D track id), empty 2-D lists,
    ``pose_keypoints_3d`` as x, y, z, score per keypoint (0 0 0 0 where missing), empty face and hand 3-D lists."""
    doc: dict[str, Any] = {"version": OPENPOSE_JSON_VERSION, "people": []}
    for person in people:
        entry: dict[str, Any] = {"person_id": [int(person.track_id)]}
        for key in _EMPTY_KEYS:
            entry[key] = []
        entry["pose_keypoints_3d"] = person.pose_keypoints_3d()
        entry["face_keypoints_3d"] = []
        entry["hand_left_keypoints_3d"] = []
        entry["hand_right_keypoints_3d"] = []
        doc["people"].append(entry)
    return doc


def _field(v: float) -> str:
    return f"{v:.6f}" if math.isfinite(v) else ""


def trc_text(points: np.ndarray, markers: Sequence[str], rate: float, units: str = "m",
             first_frame: int = 0, name: str = "markers.trc") -> str:
    """The TRC file of marker tracks ``points`` (T, M, 3) (NaN where missing) at ``rate`` frames per second, the
    first row being source frame ``first_frame`` (0-based: its ``Frame#`` is ``first_frame + 1``, its time
    ``first_frame / rate``)."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 3 or points.shape[1:] != (len(markers), 3):
        raise ValueError(f"expected marker tracks (T, {len(markers)}, 3), got {points.shape}")
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"the frame rate must be a positive number, got {rate}")
    if units not in TRC_UNITS:
        raise ValueError(f"units must be one of {', '.join(TRC_UNITS)}, got {units!r}")
    T, M = len(points), len(markers)
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        f"{rate:g}\t{rate:g}\t{T}\t{M}\t{units}\t{rate:g}\t{first_frame + 1}\t{T}",
        "Frame#\tTime\t" + "\t".join(f"{m}\t\t" for m in markers).rstrip("\t"),
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, M + 1)),
        "",
    ]
    for t, frame in enumerate(points):
        n = first_frame + t
        lines.append(f"{n + 1}\t{n / rate:.6f}\t" + "\t".join(_field(float(v)) for v in frame.reshape(-1)))
    return "\n".join(lines) + "\n"


def write_trc(path: str | Path, points: np.ndarray, markers: Sequence[str], rate: float, units: str = "m",
              first_frame: int = 0) -> None:
    """Write :func:`trc_text` atomically to ``path`` (or raise ``OutputError``)."""
    path = Path(path)
    write_bytes_atomic(path, trc_text(points, markers, rate, units, first_frame, path.name).encode("ascii"))
