"""Hands: MediaPipe's hand landmark network on hand crops -> 21 points in OpenPose's order (the same as MediaPipe's).

A first pass takes the crops it is given; the second (``passes=2``) crops again around the first pass's points, turned
so the wrist -> middle-finger line points up, and keeps whichever pass is surer a hand is there. The second pass runs
only where it pays: where the first crop was turned, placed or sized clearly unlike the hand it found.
"""

from __future__ import annotations

import numpy as np

from .networks import LandmarkNetwork
from .passes import Crops, crops_around, run_crops, up_angle

_RETRY = 0.2  # first passes at least this fraction of the presence bar get a second crop
__all__ = ["find_hands", "HAND_POINTS"]

HAND_POINTS = 21
_SCALE, _SHIFT_UP = 2.0, 0.1
_SAME_TURN, _SAME_PLACE, _SAME_SIZE = np.radians(15.0), 0.08, 1.2  # MediaPipe's hand rect from landmarks: twice the hand, moved up a tenth


def _decode(outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    n = len(outputs[0])
    return outputs[0].reshape(n, HAND_POINTS, 3)[:, :, :2], outputs[1][:, 0]


def _retake(points: np.ndarray) -> Crops:
    """The second pass's crops: up from the wrist towards the middle of the index, middle and ring finger bases."""
    knuckles = (points[:, 5] + points[:, 13]) / 2
    tip = (knuckles + points[:, 9]) / 2
    return crops_around(points, up_angle(points[:, 0], tip), _SCALE, _SHIFT_UP)


def _fits(first: Crops, retake: Crops) -> np.ndarray:
    """(N,) whether a first crop already is about the second pass's: turned within ``_SAME_TURN`` of it, centred
    within ``_SAME_PLACE`` of its side and of a side within ``_SAME_SIZE``; a second pass there pays nothing."""
    turn = np.abs((retake.angles - first.angles + np.pi) % (2 * np.pi) - np.pi)
    shift = np.hypot(*(retake.centres - first.centres).T) / retake.sizes
    ratio = first.sizes / retake.sizes
    return (turn < _SAME_TURN) & (shift < _SAME_PLACE) & (np.abs(np.log(ratio)) < np.log(_SAME_SIZE))


def find_hands(network: LandmarkNetwork, image_rgb: np.ndarray, crops: Crops, *, passes: int = 2,
               presence: float = 0.5, batch: int = 32) -> np.ndarray:
    """(N, 21, 3) x, y, score in image pixels for N hand crops; NaN rows where the network says no hand is there
    (presence below ``presence``). Each point's score is the hand's presence score (the network gives no per-point
    confidence)."""
    points, score = run_crops(network, _decode, image_rgb, crops, batch)
    if passes == 2 and len(crops):
        found = np.flatnonzero(score >= _RETRY * presence)  # a doubtful first crop may still be a near miss
        retake = _retake(points[found])
        keep = _fits(crops.select(found), retake)
        found, retake = found[~keep], retake.select(np.flatnonzero(~keep))
        if len(found):
            again, again_score = run_crops(network, _decode, image_rgb, retake, batch)
            better = again_score >= score[found]
            points[found[better]] = again[better]
            score[found[better]] = again_score[better]
    out = np.full((len(crops), HAND_POINTS, 3), np.nan)
    if len(crops):
        keep = score >= presence
        out[keep, :, :2] = points[keep]
        out[keep, :, 2] = score[keep, None]
    return out
