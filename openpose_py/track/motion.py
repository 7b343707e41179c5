"""Constant-velocity motion for tracks: where a person is expected at a later time, and how a new observation
updates the velocity and the remembered position of keypoints that were not seen.

A track moves as a whole (one velocity per track, from the median displacement of the keypoints seen both times),
which is robust to single keypoints jumping between limbs. Shapes: N tracks, K keypoints.
"""

from __future__ import annotations

import numpy as np

__all__ = ["predict", "observe"]


def predict(xy: np.ndarray, velocity: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """(N, K, 2) positions ``dt`` seconds after ``xy`` at constant ``velocity``.

    Args:
        xy: (N, K, 2) positions at the last observation.
        velocity: (N, 2) pixels per second.
        dt: (N,) seconds since the last observation.
    """
    return xy + velocity[:, None, :] * dt[:, None, None]


def _masked_median(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(N, 2) median over axis 1 of (N, K, 2) ``values`` where ``mask`` (N, K); 0 for rows with none (np.nanmedian
    costs ten times more for these small arrays)."""
    count = mask.sum(axis=1)  # (N,)
    ordered = np.sort(np.where(mask[..., None], values, np.inf), axis=1)  # present values first
    lo = np.maximum((count - 1) // 2, 0)[:, None, None]
    hi = np.maximum(count // 2, 0)[:, None, None]
    pick = lambda i: np.take_along_axis(ordered, np.broadcast_to(i, (len(values), 1, 2)), axis=1)[:, 0]  # noqa: E731
    return np.where(count[:, None] > 0, 0.5 * (pick(lo) + pick(hi)), 0.0)


def observe(xy: np.ndarray, present: np.ndarray, velocity: np.ndarray, dt: np.ndarray, new_xy: np.ndarray,
            new_present: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fold a new observation of N tracks into their positions and velocities.

    Args:
        xy, present, velocity: the tracks' remembered positions (N, K, 2), which keypoints were ever seen (N, K) and
            velocities (N, 2).
        dt: (N,) seconds since each track's last observation (> 0).
        new_xy, new_present: the observation (N, K, 2) and its present keypoints (N, K).
        weight: (N,) how much the measured velocity counts against the old one (1: replace it).

    Returns:
        (positions (N, K, 2), velocities (N, 2)): seen keypoints take their new position, the others move with the
        track's measured displacement; the velocity is the weighted mean of the old one and the measured one.
    """
    both = present & new_present
    have = both.any(axis=1)
    shift = _masked_median(new_xy - xy, both)
    # with no keypoint in common, the displacement is what the old velocity predicts
    shift = np.where(have[:, None], shift, velocity * dt[:, None])
    measured = shift / dt[:, None]
    velocity = weight[:, None] * measured + (1.0 - weight[:, None]) * velocity
    positions = np.where(new_present[..., None], new_xy, xy + shift[:, None, :])
    return positions, velocity
