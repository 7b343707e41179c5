"""Cameras from checkerboard pictures: intrinsics per camera with OpenCV (``calibrateCamera``), extrinsics from one
board view that every camera sees at once (the world is that board's frame: x along its rows of corners, z out of
its plane), and the reprojection error of each.

Pictures are paired across cameras by their rank (synchronized videos, or folders of frames taken together); the
shared view is the first rank at which every camera finds the board, unless one is named.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

from ..images import load_image
from .boards import Board, find_corners
from .camera import CalibrationError, Camera

__all__ = ["CameraReport", "calibrate_cameras", "frames_of", "corners_of"]

log = logging.getLogger(__name__)
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class CameraReport:
    """How well one camera was calibrated: board views used, RMS reprojection error (pixels) of the intrinsic fit
    over them, and of the camera's pose on the shared view."""

    name: str
    views: int
    intrinsic_rms: float
    extrinsic_rms: float


def frames_of(source: Path, every: int = 1) -> Iterator[np.ndarray]:
    """The pictures of one camera: a folder of images (name order) or a video file (every ``every``-th frame)."""
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
        if not files:
            raise CalibrationError(f"{source}: no image in the folder")
        for path in files[::every]:
            yield load_image(path)
        return
    capture = cv2.VideoCapture(str(source))
    if not capture.isOpened():
        raise CalibrationError(f"{source}: not a folder of images nor a readable video")
    try:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % every == 0:
                yield frame
            index += 1
    finally:
        capture.release()


def corners_of(source: Path, board: Board, every: int = 1) -> tuple[list[np.ndarray | None], tuple[int, int]]:
    """Board corners found in each picture of a camera (None where not found) and the pictures' (width, height)."""
    found, size = [], (0, 0)
    for image in frames_of(source, every):
        size = (image.shape[1], image.shape[0])
        found.append(find_corners(image, board))
    return found, size


def _rms(camera: Camera, board: Board, rvec: np.ndarray, tvec: np.ndarray, corners: np.ndarray) -> float:
    seen = cv2.projectPoints(board.corners, rvec, tvec, camera.K, camera.dist)[0].reshape(-1, 2)
    return float(np.sqrt(((seen - corners) ** 2).sum(1).mean()))


def calibrate_cameras(corners: Sequence[Sequence[np.ndarray | None]], sizes: Sequence[tuple[int, int]],
                      names: Sequence[str], board: Board, shared_view: int | None = None,
                      rational: bool = False) -> tuple[list[Camera], list[CameraReport]]:
    """Cameras (world = the board at the shared view) and their reports, from each camera's corners per picture.

    Args:
        corners: per camera, per picture rank, (N, 2) corners or None.
        sizes: per camera, picture (width, height).
        shared_view: the picture rank every camera sees the board at, to place the cameras; None: the first one.
        rational: fit OpenCV's 8-coefficient rational model instead of k1 k2 p1 p2 k3.
    """
    if not (len(corners) == len(sizes) == len(names)) or not corners:
        raise CalibrationError("one list of corners, one picture size and one name per camera are needed")
    ranks = min(len(c) for c in corners)
    shared = [r for r in range(ranks) if all(c[r] is not None for c in corners)]
    if shared_view is None:
        if not shared:
            raise CalibrationError("no picture in which every camera finds the board: the cameras cannot be placed")
        shared_view = shared[0]
    elif shared_view not in shared:
        raise CalibrationError(f"not every camera finds the board in picture {shared_view}")
    flags = cv2.CALIB_RATIONAL_MODEL if rational else 0
    cameras, reports = [], []
    for name, found, size in zip(names, corners, sizes):
        views = [r for r, c in enumerate(found) if c is not None]
        if len(views) < 3:
            raise CalibrationError(f"camera {name!r}: the board was found in {len(views)} pictures, 3 or more needed")
        rms, K, dist, rvecs, tvecs = cv2.calibrateCamera([board.corners] * len(views),
                                                         [found[r].astype(np.float32) for r in views], size, None,
                                                         None, flags=flags)
        at = views.index(shared_view)
        cam = Camera(name, K, dist.reshape(-1), rvecs[at].reshape(3), tvecs[at].reshape(3), size)
        cameras.append(cam)
        reports.append(CameraReport(name, len(views), float(rms),
                                    _rms(cam, board, cam.rvec, cam.tvec, found[shared_view])))
        log.info("camera %s: %d board views, RMS %.3f px", name, len(views), rms)
    return cameras, reports
