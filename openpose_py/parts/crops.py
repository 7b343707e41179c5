"""Rotated square crops: image -> network input, and network points back to image pixels.

A crop is a square of side ``size`` image pixels centred at ``centre`` and turned by ``angle`` radians (the crop's
"up" is the image direction ``(sin a, -cos a)``), resampled to ``out`` x ``out`` pixels. Glossary: N crops.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["crop_matrices", "take_crops", "to_image"]


def crop_matrices(centres: np.ndarray, sizes: np.ndarray, angles: np.ndarray, out: int) -> np.ndarray:
    """(N, 2, 3) affine maps from image pixels to crop pixels (0..out)."""
    centres = np.asarray(centres, np.float64).reshape(-1, 2)
    sizes = np.asarray(sizes, np.float64).reshape(-1)
    angles = np.asarray(angles, np.float64).reshape(-1)
    scale = out / sizes
    cos, sin = np.cos(angles) * scale, np.sin(angles) * scale
    # crop = R(-angle) * scale * (p - centre) + out / 2
    mats = np.empty((len(centres), 2, 3))
    mats[:, 0, 0], mats[:, 0, 1] = cos, sin
    mats[:, 1, 0], mats[:, 1, 1] = -sin, cos
    mats[:, :, 2] = out / 2.0 - np.einsum("nij,nj->ni", mats[:, :, :2], centres)
    return mats


def take_crops(image: np.ndarray, mats: np.ndarray, out: int) -> np.ndarray:
    """(N, out, out, 3) uint8 crops of ``image``, in its channel order (outside the image: black, as MediaPipe
    pads); each warped straight into its place in the batch."""
    crops = np.empty((len(mats), out, out, 3), np.uint8)
    for i, m in enumerate(mats):
        cv2.warpAffine(image, m, (out, out), dst=crops[i], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=0)
    return crops


def to_image(points: np.ndarray, mats: np.ndarray) -> np.ndarray:
    """(N, K, 2) crop pixels -> (N, K, 2) image pixels, through the inverse of each crop's map."""
    lin = mats[:, :, :2]
    inv = np.linalg.inv(lin)
    return np.einsum("nij,nkj->nki", inv, points - mats[:, None, :, 2])
