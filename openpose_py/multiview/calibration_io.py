"""Calibration files: Pose2Sim's TOML, OpenPose's per-camera XML and OpenCV YAML (both through ``cv2.FileStorage``).

- **TOML** (Pose2Sim): one table per camera with ``name``, ``size`` [w, h], ``matrix`` (3x3), ``distortions``
  (k1 k2 p1 p2 [k3]), ``rotation`` (Rodrigues vector), ``translation``; world-to-camera. Tables without a ``matrix``
  (Pose2Sim's ``[metadata]``) are skipped. Read with ``tomllib``, written by hand (numbers and strings only).
- **XML** (OpenPose 3D): ``CameraMatrix`` (3x4 ``[R | t]``, world-to-camera), ``Intrinsics`` (3x3), ``Distortion``
  (1xN).
- **YAML** (OpenCV's calibration sample): ``camera_matrix``, ``distortion_coefficients``, ``image_width``,
  ``image_height``, plus ``rotation_vector`` and ``translation_vector`` for the pose.

An XML or YAML file holds either one camera in one of these layouts at its top level (OpenPose writes one file per
camera, named after it) or several, one map per camera (``camera_0``, ``camera_1`` ... each with a ``name``); a
folder of such files is a calibration too (cameras in file-name order). Either layout reads from either file type.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from ..atomic import write_bytes_atomic
from .camera import CalibrationError, Camera

__all__ = ["read_calibration", "write_calibration", "write_camera_files", "CALIBRATION_SUFFIXES"]

CALIBRATION_SUFFIXES = (".toml", ".xml", ".yml", ".yaml")
_STORAGE_SUFFIXES = (".xml", ".yml", ".yaml")


# ---- reading ---------------------------------------------------------------------------------------------------------
def read_calibration(path: str | Path) -> list[Camera]:
    """The cameras of a calibration file (TOML, XML, YAML) or folder of per-camera XML/YAML files, in file order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in _STORAGE_SUFFIXES and p.is_file())
        if not files:
            raise CalibrationError(f"{path}: no .xml, .yml or .yaml camera file in the folder")
        cameras = [cam for f in files for cam in _read_storage(f)]
    elif not path.is_file():
        raise CalibrationError(f"{path}: no such calibration file")
    elif path.suffix.lower() == ".toml":
        cameras = _read_toml(path)
    elif path.suffix.lower() in _STORAGE_SUFFIXES:
        cameras = _read_storage(path)
    else:
        raise CalibrationError(f"{path}: a calibration ends in {', '.join(CALIBRATION_SUFFIXES)} (or is a folder)")
    names = [c.name for c in cameras]
    if len(set(names)) != len(names):
        raise CalibrationError(f"{path}: two cameras share a name ({', '.join(names)})")
    return cameras


def _read_toml(path: Path) -> list[Camera]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise CalibrationError("reading TOML calibrations needs Python 3.11 or newer (tomllib)") from None
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CalibrationError(f"cannot read {path}: {exc}") from exc
    cameras = []
    for key, table in doc.items():
        if not isinstance(table, dict) or "matrix" not in table:
            continue
        try:
            cameras.append(Camera(
                str(table.get("name", key)), table["matrix"], table.get("distortions", ()),
                table.get("rotation", (0, 0, 0)), table.get("translation", (0, 0, 0)),
                tuple(int(round(float(v))) for v in table.get("size", (0, 0)))[:2],  # type: ignore[arg-type]
            ))
        except (TypeError, ValueError) as exc:
            raise CalibrationError(f"{path}: camera [{key}]: {exc}") from None
    if not cameras:
        raise CalibrationError(f"{path}: no camera table (with a 'matrix') in the file")
    return cameras


def _storage_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"cannot read {path}: {exc}") from exc


def _read_storage(path: Path) -> list[Camera]:
    text = _storage_text(path)
    try:
        fs = cv2.FileStorage(text, cv2.FILE_STORAGE_READ | cv2.FILE_STORAGE_MEMORY)
    except (cv2.error, SystemError):  # OpenCV's parser errors come as either
        raise CalibrationError(f"cannot read {path}: not an OpenCV XML/YAML file") from None
    root = fs.root()
    try:
        if _camera_node(root):
            return [_camera_from_node(root, path.stem, path)]
        cameras = [_camera_from_node(root.getNode(k), k, path) for k in root.keys() if _camera_node(root.getNode(k))]
    finally:
        fs.release()
    if not cameras:
        raise CalibrationError(f"{path}: no camera (Intrinsics or camera_matrix) in the file")
    return cameras


def _camera_node(node: Any) -> bool:
    return node.isMap() and not (node.getNode("Intrinsics").empty() and node.getNode("camera_matrix").empty())


def _mat(node: Any, *keys: str) -> np.ndarray | None:
    for key in keys:
        sub = node.getNode(key)
        if not sub.empty():
            m = sub.mat()
            return None if m is None else np.asarray(m, dtype=np.float64)
    return None


def _camera_from_node(node: Any, default_name: str, path: Path) -> Camera:
    name_node = node.getNode("name")
    name = name_node.string() if not name_node.empty() and name_node.isString() else default_name
    K = _mat(node, "Intrinsics", "camera_matrix")
    dist = _mat(node, "Distortion", "distortion_coefficients")
    extrinsics = _mat(node, "CameraMatrix")
    rvec, tvec = _mat(node, "rotation_vector"), _mat(node, "translation_vector")
    size = tuple(int(node.getNode(k).real()) if not node.getNode(k).empty() else 0
                 for k in ("image_width", "image_height"))
    try:
        if extrinsics is not None:
            if extrinsics.shape != (3, 4):
                raise CalibrationError(f"CameraMatrix must be 3x4 [R | t], got {extrinsics.shape}")
            return Camera.from_rotation_matrix(name, K, () if dist is None else dist, extrinsics[:, :3],
                                               extrinsics[:, 3], size)
        return Camera(name, K, () if dist is None else dist, np.zeros(3) if rvec is None else rvec,
                      np.zeros(3) if tvec is None else tvec, size)  # type: ignore[arg-type]
    except (CalibrationError, TypeError, ValueError) as exc:
        raise CalibrationError(f"{path}: camera {name!r}: {exc}") from None


# ---- writing ---------------------------------------------------------------------------------------------------------
def write_calibration(path: str | Path, cameras: Sequence[Camera]) -> None:
    """Write ``cameras`` to one file, its format named by the suffix: ``.toml`` (Pose2Sim), ``.xml`` (OpenPose's
    layout, a map per camera) or ``.yml``/``.yaml`` (OpenCV's layout, a map per camera). Atomic."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".toml":
        data = _toml_text(cameras)
    elif suffix in _STORAGE_SUFFIXES:
        data = _storage_bytes(suffix, [(f"camera_{i}", cam) for i, cam in enumerate(cameras)])
    else:
        raise CalibrationError(f"{path}: a calibration ends in {', '.join(CALIBRATION_SUFFIXES)}")
    write_bytes_atomic(path, data)


def write_camera_files(directory: str | Path, cameras: Sequence[Camera], suffix: str = ".xml") -> list[Path]:
    """One file per camera in ``directory`` (named after the camera, its layout at the top level, as OpenPose keeps
    its calibration); returns the paths."""
    directory = Path(directory)
    paths = []
    for cam in cameras:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", cam.name):
            raise CalibrationError(f"camera name {cam.name!r} cannot be a file name")
        paths.append(directory / f"{cam.name}{suffix}")
        write_bytes_atomic(paths[-1], _storage_bytes(suffix.lower(), [(None, cam)]))
    return paths


def _storage_bytes(suffix: str, entries: Sequence[tuple[str | None, Camera]]) -> bytes:
    fs = cv2.FileStorage(suffix, cv2.FILE_STORAGE_WRITE | cv2.FILE_STORAGE_MEMORY)
    for key, cam in entries:
        if key is not None:
            fs.startWriteStruct(key, cv2.FileNode_MAP)
        fs.write("name", cam.name)
        fs.write("image_width", cam.size[0])
        fs.write("image_height", cam.size[1])
        dist = cam.dist.reshape(1, -1) if cam.dist.size else np.zeros((1, 5))
        if suffix == ".xml":  # OpenPose's layout
            fs.write("CameraMatrix", np.hstack([cam.R, cam.tvec[:, None]]))
            fs.write("Intrinsics", cam.K)
            fs.write("Distortion", dist)
        else:  # OpenCV's calibration sample layout
            fs.write("camera_matrix", cam.K)
            fs.write("distortion_coefficients", dist)
            fs.write("rotation_vector", cam.rvec.reshape(3, 1))
            fs.write("translation_vector", cam.tvec.reshape(3, 1))
        if key is not None:
            fs.endWriteStruct()
    return fs.releaseAndGetString().encode("utf-8")


def _toml_number(v: float) -> str:
    v = float(v)
    if not math.isfinite(v):
        raise CalibrationError(f"cannot write {v} to TOML")
    return repr(v)


def _toml_array(values: np.ndarray) -> str:
    values = np.asarray(values)
    if values.ndim == 1:
        return "[ " + ", ".join(_toml_number(v) for v in values) + "]"
    return "[ " + ", ".join(_toml_array(row) for row in values) + "]"


def _toml_text(cameras: Sequence[Camera]) -> bytes:
    lines = []
    for cam in cameras:
        key = cam.name if re.fullmatch(r"[A-Za-z0-9_\-]+", cam.name) else json.dumps(cam.name)
        dist = cam.dist if cam.dist.size > 4 and cam.dist[4:].any() else np.pad(cam.dist, (0, 4))[:4]
        lines += [
            f"[{key}]",
            f"name = {json.dumps(cam.name)}",
            f"size = {_toml_array(np.asarray(cam.size, dtype=np.float64))}",
            f"matrix = {_toml_array(cam.K)}",
            f"distortions = {_toml_array(dist)}",
            f"rotation = {_toml_array(cam.rvec)}",
            f"translation = {_toml_array(cam.tvec)}",
            "fisheye = false",
            "",
        ]
    lines += ["[metadata]", "adjusted = false", "error = 0.0", ""]
    return "\n".join(lines).encode("utf-8")
