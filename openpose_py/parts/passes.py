"""One landmark network over rotated square crops, in batches, and the tighter crop a first pass's points give.

Glossary: N crops, K points per crop. A crop is ``(centres (N, 2), sizes (N,), angles (N,))`` in image pixels
(:mod:`.crops`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .crops import crop_matrices, take_crops, to_image
from .networks import LandmarkNetwork

__all__ = ["Crops", "run_crops", "retake_better", "crops_around", "fits", "up_angle", "sigmoid", "RETRY"]

#: A first pass at least this fraction of the presence bar gets a second crop: a doubtful first crop may be a near miss.
RETRY = 0.2
_SAME_TURN, _SAME_PLACE, _SAME_SIZE = np.radians(15.0), 0.08, 1.2  # a first crop this close needs no second pass

#: decode(outputs of one batch) -> (points (n, K, 2 + C) in crop pixels, with C extra values per point that are
#: carried as they are, presence (n,) in 0..1)
Decoder = Callable[[list[np.ndarray]], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True, slots=True)
class Crops:
    """N rotated square crops in image pixels."""

    centres: np.ndarray  # (N, 2)
    sizes: np.ndarray  # (N,)
    angles: np.ndarray  # (N,) radians; the crop's up is the image direction (sin a, -cos a)

    def __len__(self) -> int:
        return len(self.sizes)

    def select(self, rows: np.ndarray) -> "Crops":
        return Crops(self.centres[rows], self.sizes[rows], self.angles[rows])


def run_crops(network: LandmarkNetwork, decode: Decoder, image_bgr: np.ndarray, crops: Crops, batch: int,
              flip: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(points (N, K, 2 + C) in image pixels, presence (N,)) of every crop, ``batch`` crops per network call.

    ``flip`` (N,) bool mirrors those crops left-right before the network (MediaPipe's iris network sees right eyes
    mirrored); their points are mapped back.
    """
    size = network.size
    mats = crop_matrices(crops.centres, crops.sizes, crops.angles, size)
    if flip is not None:
        mats[flip, 0, :] *= -1.0
        mats[flip, 0, 2] += size
    points, presence = [], []
    for start in range(0, len(crops), batch):
        part = mats[start:start + batch]
        pts, pres = decode(network(take_crops(image_bgr, part, size)))
        pts = pts.astype(np.float64)
        pts[..., :2] = to_image(pts[..., :2], part)
        points.append(pts)
        presence.append(pres)
    if not points:
        return np.zeros((0, 0, 2)), np.zeros(0)
    return np.concatenate(points), np.concatenate(presence)


def retake_better(network: LandmarkNetwork, decode: Decoder, image_bgr: np.ndarray, retake: Crops,
                  rows: np.ndarray, points: np.ndarray, score: np.ndarray, batch: int) -> None:
    """The second pass: run the ``retake`` crops of first-pass ``rows`` and, in place, keep each row's second answer
    where its presence score is at least the first's."""
    if not len(rows):
        return
    again, again_score = run_crops(network, decode, image_bgr, retake, batch)
    better = again_score >= score[rows]
    points[rows[better]] = again[better]
    score[rows[better]] = again_score[better]


def fits(first: Crops, retake: Crops) -> np.ndarray:
    """(N,) whether a first crop already is about the second pass's: turned within ``_SAME_TURN`` of it, centred
    within ``_SAME_PLACE`` of its side and of a side within ``_SAME_SIZE``; a second pass there pays nothing."""
    turn = np.abs((retake.angles - first.angles + np.pi) % (2 * np.pi) - np.pi)
    shift = np.hypot(*(retake.centres - first.centres).T) / retake.sizes
    ratio = first.sizes / retake.sizes
    return (turn < _SAME_TURN) & (shift < _SAME_PLACE) & (np.abs(np.log(ratio)) < np.log(_SAME_SIZE))


def up_angle(base: np.ndarray, tip: np.ndarray) -> np.ndarray:
    """(N,) crop angles that turn the image direction base -> tip to the crop's up."""
    v = np.asarray(tip, np.float64) - np.asarray(base, np.float64)
    return np.arctan2(v[..., 0], -v[..., 1])


def crops_around(points: np.ndarray, angles: np.ndarray, scale: float, shift_up: float = 0.0) -> Crops:
    """Square crops around (N, K, 2) points (NaN rows ignored), turned by ``angles``: the points' box in the turned
    frame, its longer side times ``scale``, moved up by ``shift_up`` of that side (MediaPipe's rect from landmarks)."""
    cos, sin = np.cos(angles)[:, None], np.sin(angles)[:, None]
    x, y = points[..., 0], points[..., 1]
    u, v = x * cos + y * sin, -x * sin + y * cos  # the turned frame: u along the crop's x, v along its y (down)
    u0, u1 = np.nanmin(u, axis=1), np.nanmax(u, axis=1)
    v0, v1 = np.nanmin(v, axis=1), np.nanmax(v, axis=1)
    side = np.maximum(u1 - u0, v1 - v0)
    cu, cv = (u0 + u1) / 2, (v0 + v1) / 2 - shift_up * side
    c, s = cos[:, 0], sin[:, 0]
    centres = np.stack([cu * c - cv * s, cu * s + cv * c], axis=1)
    return Crops(centres, side * scale, np.asarray(angles, np.float64))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow warnings for large negative logits."""
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))
