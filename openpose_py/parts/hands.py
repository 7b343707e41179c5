"""Hands: MediaPipe's hand landmark network on hand crops -> 21 points in OpenPose's order (the same as MediaPipe's).

A first pass takes the crops it is given; the second (``passes=2``) crops again around the first pass's points, turned
so the wrist -> middle-finger line points up, and keeps whichever pass is surer a hand is there. The second pass runs
only where it pays: where the first crop was turned, placed or sized clearly unlike the hand it found.
"""

from __future__ import annotations

import numpy as np

from .networks import LandmarkNetwork
from .passes import RETRY, Crops, crops_around, fits, retake_better, run_crops, up_angle

__all__ = ["find_hands", "HAND_POINTS"]

HAND_POINTS = 21
_SCALE, _SHIFT_UP = 2.0, 0.1  # MediaPipe's hand rect from landmarks: twice the hand, moved up a tenth


def _decode(outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    n = len(outputs[0])
    return outputs[0].reshape(n, HAND_POINTS, 3)[:, :, :2], outputs[1][:, 0]


def _retake(points: np.ndarray) -> Crops:
    """The second pass's crops: up from the wrist towards the middle of the index, middle and ring finger bases."""
    knuckles = (points[:, 5] + points[:, 13]) / 2
    tip = (knuckles + points[:, 9]) / 2
    return crops_around(points, up_angle(points[:, 0], tip), _SCALE, _SHIFT_UP)


def find_hands(network: LandmarkNetwork, image_bgr: np.ndarray, crops: Crops, *, passes: int = 2,
               presence: float = 0.5, batch: int = 32) -> np.ndarray:
    """(N, 21, 3) x, y, score in image pixels for N hand crops; NaN rows where the network says no hand is there
    (presence below ``presence``). Each point's score is the hand's presence score (the network gives no per-point
    confidence)."""
    points, score = run_crops(network, _decode, image_bgr, crops, batch)
    if passes == 2 and len(crops):
        found = np.flatnonzero(score >= RETRY * presence)  # a doubtful first crop may still be a near miss
        retake = _retake(points[found])
        keep = fits(crops.select(found), retake) & (score[found] >= presence)  # a sure first pass in a fitting crop
        found, retake = found[~keep], retake.select(np.flatnonzero(~keep))
        retake_better(network, _decode, image_bgr, retake, found, points, score, batch)
    out = np.full((len(crops), HAND_POINTS, 3), np.nan)
    if len(crops):
        keep = score >= presence
        out[keep, :, :2] = points[keep]
        out[keep, :, 2] = score[keep, None]
    return out
