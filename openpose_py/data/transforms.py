"""Joint augmentation of an image, its people's keypoints and its loss mask (the OpenPose training recipe).

One affine map takes source-image pixels to crop pixels: centre the main person, scale it relative to its height,
rotate, flip, jitter. The image, the keypoints and the mask all go through that same map, so they cannot drift
apart. Coordinates follow the package's pixel-centre convention (see :mod:`openpose_py.preprocess`), which is also
OpenCV's for ``warpAffine``: pixel ``i`` is centred on coordinate ``i``.

Shapes: P people, K keypoints, S crop size, s stride.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..checks import check_all, check_finite
from ..limits import DEFAULT_LIMITS
from ..skeleton import Skeleton

__all__ = ["MAX_CROP_SIZE", "AugmentConfig", "AugmentParams", "Augmented", "draw_params", "affine_matrix", "augment"]


#: The largest training crop side: the longest network input the package takes from one image
#: (:data:`openpose_py.limits.DEFAULT_LIMITS`); a crop is an input, and a larger one exhausts memory before a step.
MAX_CROP_SIZE: int = DEFAULT_LIMITS.max_side


@dataclass(frozen=True, slots=True)
class AugmentConfig:
    """Augmentation ranges; the defaults are the CVPR'17 / Lightweight OpenPose recipe.

    Attributes:
        crop_size: side of the square network input, a multiple of ``stride``, at most :data:`MAX_CROP_SIZE`.
        stride: the network's output stride (the mask is produced at that resolution).
        target_dist: main person's height as a fraction of ``crop_size`` at scale multiplier 1 (reference 0.6).
        scale_range: uniform range of the scale multiplier applied on top of the person-relative scale.
        max_rotation: rotation drawn uniformly in +-``max_rotation`` degrees.
        center_jitter: crop centre shift drawn uniformly in +-``center_jitter`` crop pixels, per axis.
        flip_prob: probability of a horizontal flip (with left/right keypoint swap).
        pad_value: grey level of the pixels outside the source image.
    """

    crop_size: int = 368
    stride: int = 8
    target_dist: float = 0.6
    scale_range: tuple[float, float] = (0.5, 1.1)
    max_rotation: float = 40.0
    center_jitter: float = 40.0
    flip_prob: float = 0.5
    pad_value: int = 128

    def __post_init__(self) -> None:
        # each message starts with the attribute's name, so that a configuration can say where it came from
        check_all(((0 < self.stride <= MAX_CROP_SIZE, f"stride must be a positive integer, got {self.stride}"),))
        check_all((
            (self.stride <= self.crop_size <= MAX_CROP_SIZE and not self.crop_size % self.stride,
             f"crop_size must be a multiple of the stride {self.stride} from {self.stride} to {MAX_CROP_SIZE}, got "
             f"{self.crop_size}"),
        ))
        check_finite(self, ("target_dist", "scale_range", "max_rotation", "center_jitter"))
        lo, hi = self.scale_range
        check_all((
            (0 < lo <= hi, f"scale_range must satisfy 0 < low <= high, got {self.scale_range}"),
            (self.target_dist > 0, f"target_dist must be positive, got {self.target_dist}"),
            (self.max_rotation >= 0, f"max_rotation must be >= 0, got {self.max_rotation}"),
            (self.center_jitter >= 0, f"center_jitter must be >= 0, got {self.center_jitter}"),
            (0.0 <= self.flip_prob <= 1.0, f"flip_prob must lie in [0, 1], got {self.flip_prob}"),
            (0 <= self.pad_value <= 255, f"pad_value must be a grey level from 0 to 255, got {self.pad_value}"),
        ))

    @classmethod
    def identity(cls, crop_size: int = 368, stride: int = 8) -> AugmentConfig:
        """No randomness: the main person centred at the reference scale, upright, unflipped."""
        return cls(crop_size=crop_size, stride=stride, scale_range=(1.0, 1.0), max_rotation=0.0, center_jitter=0.0,
                   flip_prob=0.0)

    @property
    def map_size(self) -> int:
        """Side of the stride-``stride`` target maps."""
        return self.crop_size // self.stride


@dataclass(frozen=True, slots=True)
class AugmentParams:
    """One random draw: scale multiplier, rotation in degrees (counter-clockwise on screen), shift, flip."""

    scale: float
    rotation: float
    shift: tuple[float, float]
    flip: bool


@dataclass(frozen=True, slots=True)
class Augmented:
    """An augmented sample.

    Attributes:
        image: (S, S, 3) uint8 BGR.
        keypoints: (P, K, 3) x, y, visibility in crop pixels; points that left the crop have visibility 0.
        mask: (S/s, S/s) float32 loss weight in [0, 1] (0 over unannotated people).
        matrix: (2, 3) affine map from source-image pixels to crop pixels.
    """

    image: np.ndarray
    keypoints: np.ndarray
    mask: np.ndarray
    matrix: np.ndarray


def draw_params(config: AugmentConfig, rng: np.random.Generator) -> AugmentParams:
    """Draw one set of augmentation parameters (always four draws from ``rng``, so streams stay aligned)."""
    scale = rng.uniform(*config.scale_range)
    rotation = rng.uniform(-config.max_rotation, config.max_rotation)
    shift = rng.uniform(-config.center_jitter, config.center_jitter, size=2)
    flip = rng.random() < config.flip_prob
    return AugmentParams(float(scale), float(rotation), (float(shift[0]), float(shift[1])), bool(flip))


def affine_matrix(center: tuple[float, float], base_scale: float, params: AugmentParams,
                  crop_size: int) -> np.ndarray:
    """(2, 3) map from source pixels to crop pixels.

    ``center`` (source pixels) lands on the crop centre plus ``params.shift`` after scaling by
    ``base_scale * params.scale`` and rotating by ``params.rotation``; with ``params.flip`` the crop is then mirrored
    about its vertical mid-line.
    """
    s = base_scale * params.scale
    theta = math.radians(params.rotation)
    # y points down in images, so a counter-clockwise turn on screen uses -theta in these coordinates
    cos, sin = math.cos(theta) * s, math.sin(theta) * s
    linear = np.array([[cos, sin], [-sin, cos]])
    mid = (crop_size - 1) / 2.0
    target = np.array([mid + params.shift[0], mid + params.shift[1]])
    offset = target - linear @ np.asarray(center, dtype=np.float64)
    matrix = np.concatenate([linear, offset[:, None]], axis=1)
    if params.flip:
        mirror = np.array([[-1.0, 0.0, crop_size - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        matrix = (mirror @ np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
    return matrix


def _transform_keypoints(keypoints: np.ndarray, matrix: np.ndarray, flip_perm: tuple[int, ...] | None,
                         crop_size: int) -> np.ndarray:
    out = keypoints.astype(np.float32, copy=True)
    xy = keypoints[..., :2].astype(np.float64)
    out[..., 0] = xy[..., 0] * matrix[0, 0] + xy[..., 1] * matrix[0, 1] + matrix[0, 2]
    out[..., 1] = xy[..., 0] * matrix[1, 0] + xy[..., 1] * matrix[1, 1] + matrix[1, 2]
    # the reference generators drop points that leave the crop rather than supervising their Gaussian tails
    inside = ((out[..., 0] >= -0.5) & (out[..., 0] < crop_size - 0.5)
              & (out[..., 1] >= -0.5) & (out[..., 1] < crop_size - 0.5))
    out[..., 2] = np.where(inside & (out[..., 2] > 0), out[..., 2], 0.0)
    out[out[..., 2] <= 0] = 0.0
    if flip_perm is not None:
        # after mirroring, the point labelled LWrist sits where a right wrist would: relabel by the skeleton's map
        out = out[:, list(flip_perm)]
    return out


def augment(image: np.ndarray, keypoints: np.ndarray, mask: np.ndarray | None, center: tuple[float, float],
            person_height: float, skeleton: Skeleton, config: AugmentConfig,
            params: AugmentParams) -> Augmented:
    """Apply one augmentation jointly to an image, its people and its loss mask.

    Args:
        image: (H, W, 3) uint8 BGR source image.
        keypoints: (P, K, 3) x, y, visibility in source pixels, skeleton order (visibility 0 = missing).
        mask: (H, W) float32 loss weight (1 = supervise, 0 = ignore), or None where nothing is ignored.
        center: the main person's centre in source pixels (crop centre before jitter).
        person_height: the main person's height in source pixels; it becomes ``target_dist * crop_size`` times
            the scale multiplier.
        skeleton: provides the left/right permutation applied on a flip.
        params: the random draw (see :func:`draw_params`).
    """
    size = config.crop_size
    base_scale = config.target_dist * size / max(person_height, 1.0)
    matrix = affine_matrix(center, base_scale, params, size)
    pad = (config.pad_value,) * 3
    warped = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=pad)
    kps = _transform_keypoints(keypoints, matrix, skeleton.flip_keypoints if params.flip else None, size)
    side = config.map_size
    if mask is None:
        small = np.ones((side, side), dtype=np.float32)
    else:
        # outside the source image there is only padding, which is genuine background: supervise it (weight 1)
        full = cv2.warpAffine(mask.astype(np.float32), matrix, (size, size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=1.0)
        small = cv2.resize(full, (side, side), interpolation=cv2.INTER_AREA)
    return Augmented(warped, kps, small.astype(np.float32), matrix)
