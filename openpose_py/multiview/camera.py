"""A calibrated camera: intrinsics ``K``, lens distortion (OpenCV's k1 k2 p1 p2 [k3 ...]), and the world-to-camera
pose as a Rodrigues rotation vector and a translation (``x_cam = R X + t``, in the calibration's units).

Points cross between the lens and the pinhole model here and nowhere else: :meth:`Camera.project` applies the
distortion (3-D world -> observed pixels), :meth:`Camera.undistort` removes it (observed pixels -> ideal pinhole
pixels, which :attr:`Camera.P` relates linearly to world points, the form triangulation needs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

import cv2
import numpy as np

from ..errors import OpenPoseError

__all__ = ["Camera", "MultiviewError", "CalibrationError", "fundamental_matrix"]

_UNDISTORT_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 40, 1e-10)


class MultiviewError(OpenPoseError, ValueError):
    """Multi-view inputs (cameras, calibration, per-camera detections) that cannot be used."""


class CalibrationError(MultiviewError):
    """A calibration file, a camera or a set of calibration views that cannot be used."""


def _frozen(value: object, shape: tuple[int, ...] | None, what: str) -> np.ndarray:
    array = np.array(value, dtype=np.float64)
    if shape is not None:
        try:
            array = array.reshape(shape)
        except ValueError:
            raise CalibrationError(f"{what} needs {int(np.prod(shape))} numbers, got {array.size}") from None
    if not np.isfinite(array).all():
        raise CalibrationError(f"{what} holds a NaN or infinite value")
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Camera:
    """One calibrated camera.

    Attributes:
        name: the camera's name (a calibration table's key, a folder name).
        K: (3, 3) intrinsics.
        dist: OpenCV distortion coefficients (k1, k2, p1, p2[, k3[, k4, k5, k6]]): 4, 5 or 8 numbers (or none).
        rvec: (3,) Rodrigues vector of the world-to-camera rotation.
        tvec: (3,) world-to-camera translation.
        size: image (width, height) in pixels; (0, 0) when the file did not say.
    """

    name: str
    K: np.ndarray
    dist: np.ndarray = field(default_factory=lambda: np.zeros(5))
    rvec: np.ndarray = field(default_factory=lambda: np.zeros(3))
    tvec: np.ndarray = field(default_factory=lambda: np.zeros(3))
    size: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "K", _frozen(self.K, (3, 3), f"camera {self.name!r}: K"))
        dist = _frozen(self.dist, None, f"camera {self.name!r}: distortion").reshape(-1)
        if dist.size not in (0, 4, 5, 8):
            raise CalibrationError(f"camera {self.name!r}: distortion needs 4, 5 or 8 numbers, got {dist.size}")
        put(self, "dist", dist)
        put(self, "rvec", _frozen(self.rvec, (3,), f"camera {self.name!r}: rotation"))
        put(self, "tvec", _frozen(self.tvec, (3,), f"camera {self.name!r}: translation"))
        put(self, "size", (int(self.size[0]), int(self.size[1])))
        if self.K[0, 0] <= 0 or self.K[1, 1] <= 0 or not np.allclose(self.K[2], (0, 0, 1)):
            raise CalibrationError(f"camera {self.name!r}: K must have positive focal lengths and a last row 0 0 1")

    @classmethod
    def from_rotation_matrix(cls, name: str, K: object, dist: object, R: object, t: object,
                             size: Sequence[int] = (0, 0)) -> "Camera":
        """A camera from a (3, 3) rotation matrix instead of a Rodrigues vector."""
        R = np.asarray(R, dtype=np.float64).reshape(3, 3)
        if not np.allclose(R @ R.T, np.eye(3), atol=1e-5) or np.linalg.det(R) < 0:
            raise CalibrationError(f"camera {name!r}: the rotation is not a rotation matrix")
        return cls(name, K, dist, cv2.Rodrigues(R)[0].reshape(3), t, tuple(size))  # type: ignore[arg-type]

    # ---- derived matrices ----------------------------------------------------------------------------------------
    @cached_property
    def R(self) -> np.ndarray:
        """(3, 3) world-to-camera rotation."""
        return cv2.Rodrigues(self.rvec)[0]

    @cached_property
    def P(self) -> np.ndarray:
        """(3, 4) pinhole projection ``K [R | t]`` (for undistorted pixels)."""
        return self.K @ np.hstack([self.R, self.tvec[:, None]])

    @cached_property
    def center(self) -> np.ndarray:
        """(3,) the camera's centre in world coordinates."""
        return -self.R.T @ self.tvec

    # ---- points --------------------------------------------------------------------------------------------------
    def project(self, points: np.ndarray) -> np.ndarray:
        """World points (..., 3) -> observed (distorted) pixels (..., 2). Points behind the camera come out NaN."""
        points = np.asarray(points, dtype=np.float64)
        flat = points.reshape(-1, 3)
        out = np.full((len(flat), 2), np.nan)
        ok = np.isfinite(flat).all(axis=1) & ((flat @ self.R.T + self.tvec)[:, 2] > 0)
        if ok.any():
            out[ok] = cv2.projectPoints(flat[ok], self.rvec, self.tvec, self.K, self.dist)[0].reshape(-1, 2)
        return out.reshape(*points.shape[:-1], 2)

    def project_pinhole(self, points: np.ndarray) -> np.ndarray:
        """World points (..., 3) -> ideal (undistorted) pixels (..., 2) through :attr:`P`."""
        h = np.asarray(points, dtype=np.float64) @ self.P[:, :3].T + self.P[:, 3]
        with np.errstate(divide="ignore", invalid="ignore"):
            return h[..., :2] / h[..., 2:3]

    def undistort(self, pixels: np.ndarray) -> np.ndarray:
        """Observed pixels (..., 2) -> ideal pinhole pixels (..., 2) (same K, lens distortion removed); NaN stays NaN."""
        pixels = np.asarray(pixels, dtype=np.float64)
        if not self.dist.any():
            return pixels.copy()
        flat = pixels.reshape(-1, 2)
        out = np.full_like(flat, np.nan)
        ok = np.isfinite(flat).all(axis=1)
        if ok.any():
            out[ok] = cv2.undistortPoints(flat[ok].reshape(-1, 1, 2), self.K, self.dist, None, None, self.K,
                                          _UNDISTORT_CRITERIA).reshape(-1, 2)
        return out.reshape(pixels.shape)

    def same_as(self, other: "Camera", atol: float = 1e-9) -> bool:
        """Whether two cameras hold the same name, size and numbers (up to ``atol``)."""
        n = max(self.dist.size, other.dist.size)
        pad = lambda d: np.pad(d, (0, n - d.size))  # noqa: E731
        return (self.name == other.name and self.size == other.size and np.allclose(self.K, other.K, atol=atol)
                and np.allclose(pad(self.dist), pad(other.dist), atol=atol)
                and np.allclose(self.R, other.R, atol=atol) and np.allclose(self.tvec, other.tvec, atol=atol))


def fundamental_matrix(a: Camera, b: Camera) -> np.ndarray:
    """(3, 3) F with ``x_b^T F x_a = 0`` for the undistorted pixels of one world point in cameras ``a`` and ``b``."""
    R = b.R @ a.R.T
    t = b.tvec - R @ a.tvec
    tx = np.array([[0, -t[2], t[1]], [t[2], 0, -t[0]], [-t[1], t[0], 0]])
    return np.linalg.inv(b.K).T @ tx @ R @ np.linalg.inv(a.K)
