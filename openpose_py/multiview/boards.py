"""Checkerboards: the board's geometry, its corners found in a picture, and pictures of a board rendered through a
known camera (lens distortion included), to check a calibration against the truth.

A :class:`Board` of ``columns`` x ``rows`` inner corners and ``square`` side lies in its own plane z = 0, corner
(i, j) at (i * square, j * square, 0), in the order OpenCV's ``findChessboardCorners`` reports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import cv2
import numpy as np

from .camera import CalibrationError, Camera

__all__ = ["Board", "find_corners", "BoardRenderer", "board_poses_for", "synthetic_views", "cameras_facing"]

_SUBPIX = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 40, 1e-4)
_EDGE = 8  # pixels: the corner refinement window (11 x 11) and a margin


@dataclass(frozen=True)
class Board:
    """A checkerboard: inner corners per row (``columns``) and per column (``rows``), square side (length units)."""

    columns: int
    rows: int
    square: float

    def __post_init__(self) -> None:
        if self.columns < 2 or self.rows < 2 or self.columns == self.rows:
            raise CalibrationError(f"a board needs at least 2x2 inner corners, and a different number of columns "
                                   f"and rows (to tell its orientation), got {self.columns}x{self.rows}")
        if not (np.isfinite(self.square) and self.square > 0):
            raise CalibrationError(f"the square size must be a positive number, got {self.square}")

    @classmethod
    def parse(cls, corners: str, square: float) -> "Board":
        """A board from ``"COLSxROWS"`` (inner corners, e.g. ``9x6``)."""
        try:
            columns, rows = (int(v) for v in corners.lower().split("x"))
        except ValueError:
            raise CalibrationError(f"a board is COLUMNSxROWS of inner corners (e.g. 9x6), got {corners!r}") from None
        return cls(columns, rows, square)

    @cached_property
    def corners(self) -> np.ndarray:
        """(columns * rows, 3) float32 corners in the board's frame."""
        j, i = np.mgrid[0:self.rows, 0:self.columns]
        return np.c_[i.ravel(), j.ravel(), np.zeros(i.size)].astype(np.float32) * np.float32(self.square)


def find_corners(image: np.ndarray, board: Board) -> np.ndarray | None:
    """(N, 2) float32 corners of ``board`` in a picture (grey or BGR), refined to sub-pixel, or None (also when a
    corner lies within a few pixels of the picture's edge)."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
    found, corners = cv2.findChessboardCorners(grey, (board.columns, board.rows), flags=flags)
    if not found:
        return None
    corners = corners.reshape(-1, 2)
    h, w = grey.shape
    if (corners < _EDGE).any() or (corners[:, 0] > w - 1 - _EDGE).any() or (corners[:, 1] > h - 1 - _EDGE).any():
        return None  # a corner this near the edge cannot be refined (its window leaves the picture): biased
    return cv2.cornerSubPix(grey, corners.reshape(-1, 1, 2), (5, 5), (-1, -1), _SUBPIX).reshape(-1, 2)


class BoardRenderer:
    """Pictures of a board through one camera: a pinhole picture of an anti-aliased board texture
    (``warpPerspective``), then bent by the lens (``remap`` with each output pixel's undistorted position, computed
    once per camera)."""

    def __init__(self, camera: Camera, board: Board, texels: int = 24) -> None:
        if camera.size[0] <= 0 or camera.size[1] <= 0:
            raise CalibrationError(f"camera {camera.name!r} has no image size to render")
        self.camera, self.board, self.texels = camera, board, texels
        w, h = camera.size
        grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)), -1)
        ideal = camera.undistort(grid.reshape(-1, 2)).reshape(h, w, 2)
        # the lens can bring in points from outside the pinhole picture: render a canvas that holds them all
        self._origin = np.floor(np.nanmin(ideal.reshape(-1, 2), axis=0)) - 2
        self._canvas = tuple(int(v) for v in np.ceil(np.nanmax(ideal.reshape(-1, 2), axis=0) - self._origin) + 3)
        ideal = (ideal - self._origin).astype(np.float32)
        self._map = (ideal[..., 0], ideal[..., 1])
        squares = np.indices((board.rows + 1, board.columns + 1)).sum(0) % 2  # (rows + 1, columns + 1), 1 = white
        squares = np.pad(squares, 1, constant_values=1)  # a white border of one square
        self._texture = (np.kron(squares, np.ones((texels, texels))) * 255).astype(np.uint8)

    def render(self, rvec: np.ndarray, tvec: np.ndarray) -> np.ndarray:
        """The grey picture (uint8, grey 128 around the board) of the board at pose (``rvec``, ``tvec``),
        board-to-camera."""
        R = cv2.Rodrigues(np.asarray(rvec, dtype=np.float64))[0]
        H_board = self.camera.K @ np.c_[R[:, :2], np.asarray(tvec, dtype=np.float64)]  # board plane -> pinhole pixels
        # texel centres are integers, so the edge between squares k - 1 and k lies at texel k * texels - 0.5; the
        # board's first inner corner is the edge of squares 1 and 2 (one white square of border before the board)
        s = self.board.square / self.texels
        H = H_board @ np.array([[s, 0, 0.5 * s - 2 * self.board.square], [0, s, 0.5 * s - 2 * self.board.square],
                                [0, 0, 1.0]])
        # on the canvas (pinhole pixel p at p - origin), twice as large (pixel centre x <-> 2 x + 0.5), then shrunk
        # by area: anti-aliased edges
        w, h = self._canvas
        shift = np.array([[1.0, 0, -self._origin[0]], [0, 1.0, -self._origin[1]], [0, 0, 1]])
        big = cv2.warpPerspective(self._texture, np.array([[2.0, 0, 0.5], [0, 2.0, 0.5], [0, 0, 1]]) @ shift @ H,
                                  (2 * w, 2 * h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                  borderValue=128)
        pinhole = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA)
        return cv2.remap(pinhole, self._map[0], self._map[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=128)


def board_poses_for(camera: Camera, count: int, rng: np.random.Generator, distance: float,
                    board: Board) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` board-to-camera poses of a board in front of ``camera``: tilted up to ~35 degrees, about
    ``distance`` away (+-25 %), centred near the optical axis."""
    poses = []
    centre = board.corners.mean(0).astype(np.float64)
    for _ in range(count):
        rvec = np.r_[rng.uniform(-0.6, 0.6, 2), rng.uniform(-0.3, 0.3)]
        R = cv2.Rodrigues(rvec)[0]
        depth = distance * rng.uniform(0.75, 1.25)
        offset = np.r_[rng.uniform(-0.15, 0.15, 2) * depth, depth]
        poses.append((rvec, offset - R @ centre))
    return poses


def synthetic_views(cameras: Sequence[Camera], board: Board, per_camera: int, distance: float,
                    seed: int = 0) -> list[list[np.ndarray]]:
    """Pictures of a board through ``cameras`` (their poses relative to the world = the board at picture 0): at
    picture 0 every camera sees the board at the world origin; then each camera in turn sees it alone at
    ``per_camera`` random poses (the others see a blank grey picture)."""
    rng = np.random.default_rng(seed)
    renderers = [BoardRenderer(cam, board) for cam in cameras]
    blank = [np.full((cam.size[1], cam.size[0]), 128, np.uint8) for cam in cameras]
    views = [[r.render(cam.rvec, cam.tvec)] for r, cam in zip(renderers, cameras)]
    for c, (renderer, cam) in enumerate(zip(renderers, cameras)):
        own = [renderer.render(rv, tv) for rv, tv in board_poses_for(cam, per_camera, rng, distance, board)]
        for d in range(len(cameras)):
            views[d] += own if d == c else [blank[d]] * per_camera
    return views


def cameras_facing(board: Board, count: int, distance: float, size: tuple[int, int] = (640, 480),
                   focal: float = 600.0, distortion: Sequence[float] = (-0.2, 0.08, 0.001, -0.001, 0.0),
                   tilt: float = 0.5) -> list[Camera]:
    """``count`` cameras ``distance`` from the board's centre, spread around its normal (``tilt`` radians off it),
    looking at it: a synthetic rig whose world is the board's frame."""
    centre = board.corners.mean(0).astype(np.float64)
    cams = []
    for i in range(count):
        a = 2 * np.pi * i / count
        direction = np.array([np.sin(tilt) * np.cos(a), np.sin(tilt) * np.sin(a), -np.cos(tilt)])
        position = centre + distance * direction
        z = -direction
        x = np.cross([0.0, 1.0, 0.0], z)
        x /= np.linalg.norm(x)
        R = np.stack([x, np.cross(z, x), z])
        K = [[focal, 0, size[0] / 2], [0, focal, size[1] / 2], [0, 0, 1]]
        cams.append(Camera.from_rotation_matrix(f"cam{i}", K, distortion, R, -R @ position, size))
    return cams
