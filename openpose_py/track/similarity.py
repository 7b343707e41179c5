"""Pose similarity for association: Object Keypoint Similarity (OKS) with the skeleton's per-keypoint sigmas.

Shapes follow the package glossary: T tracks, D detections, K keypoints. Positions are pixels; ``present`` masks
say which keypoints exist (missing ones carry any value and are ignored).
"""

from __future__ import annotations

import numpy as np

__all__ = ["keypoint_box_area", "oks_matrix", "duplicates", "DUPLICATE_SHARE"]

#: Smallest person area (pixels squared) a similarity is scaled by, so that a person seen as one or two keypoints
#: (box area near zero) does not make every distance look infinite.
MIN_AREA = 32.0 * 32.0
#: A keypoint lies on another person's when closer than this share of that person's height (or the tracker's pixel
#: tolerance, whichever is larger): see :func:`duplicates`.
DUPLICATE_SHARE = 0.06


def keypoint_box_area(xy: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(N,) area of the box around each person's present keypoints, at least :data:`MIN_AREA`.

    Args:
        xy: (N, K, 2) positions.
        present: (N, K) bool.
    """
    if xy.shape[0] == 0:
        return np.zeros(0)
    mask = present[..., None]
    lo = np.where(mask, xy, np.inf).min(axis=1)  # (N, 2); +inf for a person with no keypoint
    hi = np.where(mask, xy, -np.inf).max(axis=1)
    size = np.maximum(hi - lo, 0.0)  # -inf (no keypoint) becomes 0
    return np.maximum(size[:, 0] * size[:, 1], MIN_AREA)


def oks_matrix(a_xy: np.ndarray, a_present: np.ndarray, b_xy: np.ndarray, b_present: np.ndarray,
               sigmas: np.ndarray, area: np.ndarray, *, over_a: bool = False, tolerance: float = 0.0) -> np.ndarray:
    """(T, D) OKS of every pose in ``a`` against every pose in ``b``, averaged over the keypoints both have.

    ``exp(-d^2 / (2 area (2 sigma)^2))`` per keypoint as in COCO, with ``area`` the scale of each ``a`` pose; a pair
    with no keypoint in common scores 0. With ``over_a`` the average runs over all of ``a``'s keypoints (a keypoint
    ``b`` lacks scores 0), which is COCO's evaluation OKS with ``a`` the ground truth. ``tolerance`` (pixels) is
    added in quadrature to every keypoint's allowed distance, so that for people tens of pixels tall a detector's
    few pixels of noise do not look like a different pose (size-aware; 0 is COCO's OKS).

    Args:
        a_xy, b_xy: (T, K, 2) and (D, K, 2) positions.
        a_present, b_present: (T, K) and (D, K) bool.
        sigmas: (K,) per-keypoint sigmas (:attr:`Skeleton.oks_sigmas`).
        area: (T,) squared scale of each ``a`` pose (:func:`keypoint_box_area`).
    """
    dx = a_xy[:, None, :, 0] - b_xy[None, :, :, 0]  # (T, D, K); x and y apart: a sum over a last axis of 2 is slow
    dy = a_xy[:, None, :, 1] - b_xy[None, :, :, 1]
    d2 = dx * dx + dy * dy
    scale = 2.0 * area[:, None, None] * np.square(2.0 * sigmas)[None, None] + 2.0 * tolerance * tolerance
    both = a_present[:, None] & b_present[None]
    per_point = np.where(both, np.exp(-d2 / scale), 0.0)
    count = np.broadcast_to(a_present.sum(axis=-1)[:, None], both.shape[:2]) if over_a else both.sum(axis=-1)
    return per_point.sum(axis=-1) / np.maximum(count, 1)


def duplicates(xy: np.ndarray, present: np.ndarray, tolerance_px: float) -> np.ndarray:
    """(P,) bool: this person is a piece of another one of the same frame, found twice by the network: it has at most
    half the skeleton's keypoints, fewer than the other, and every one of them lies on one of the other's (any
    keypoint: a limb found as left and as right), within :data:`DUPLICATE_SHARE` of the other's height or
    ``tolerance_px``. Someone really standing behind another person does not have all of their points there.

    Args:
        xy: (P, K, 2) positions; present: (P, K) bool.
    """
    count = present.sum(axis=1)
    small = np.flatnonzero((count > 0) & (count <= present.shape[1] // 2))
    out = np.zeros(len(xy), bool)
    if len(small) == 0 or len(xy) < 2:
        return out
    lo = np.where(present[..., None], xy, np.inf).min(axis=1)
    hi = np.where(present[..., None], xy, -np.inf).max(axis=1)
    reach = np.maximum(DUPLICATE_SHARE * np.maximum(hi - lo, 0.0).max(axis=1), tolerance_px)  # (P,)
    dx = xy[small, None, :, None, 0] - xy[None, :, None, :, 0]  # (S, P, K of the piece, K of the other)
    dy = xy[small, None, :, None, 1] - xy[None, :, None, :, 1]
    near = (dx * dx + dy * dy <= np.square(reach)[None, :, None, None]) & present[None, :, None, :]
    on_other = near.any(axis=3) | ~present[small, None, :]  # (S, P, K): each point of the piece lies on the other
    bigger = count[None, :] > count[small, None]
    out[small] = (on_other.all(axis=2) & bigger).any(axis=1)
    return out
