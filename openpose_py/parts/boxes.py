"""Where to crop: hand and face crops from a body (as OpenPose's detectors place them), and crops around given boxes.

Glossary: P people, N crops. A crop row with a NaN centre is one that cannot be placed (a person with no wrist).
"""

from __future__ import annotations

import numpy as np

from ..errors import OpenPoseError
from .passes import Crops

__all__ = ["BoxError", "nan_mean", "body_points", "person_sizes", "hand_crops", "face_crops", "box_crops"]

# OpenPose's hand detector: the hand's centre a third of the forearm beyond the wrist, its side 1.5 times the longer
# of the forearm and 0.9 upper arm. MediaPipe's hand crop (twice the hand, moved a tenth of its side towards the
# fingers) came out on the slp frames a tenth of the side further out and 1.14 times smaller than that, so the first
# crop takes both: it then needs no second pass unless the hand turns away from the forearm.
_BEYOND_WRIST, _ARM_SIDE, _UPPER_ARM, _FURTHER = 0.33, 1.3, 0.9, 0.1
_FACE_FROM = {"ears": 1.7, "eyes": 4.0, "neck": 1.4}  # face crop side per ear, eye and neck-nose distance
# The face mesh's box (brow to chin) is centred this fraction of the crop's side below the nose and eyes' mean: on the
# slp frames the second pass's crop lay 0.066-0.070 lower than the first, every frame.
_FACE_BELOW = 0.07


class BoxError(OpenPoseError, ValueError):
    """Given boxes that cannot be used (wrong shape, not finite, zero size, wholly outside the image)."""


def nan_mean(points: np.ndarray) -> np.ndarray:
    """(P, J, 2) -> (P, 2) the mean of each row's finite points, NaN where it has none (without numpy's warning)."""
    ok = np.isfinite(points).all(axis=-1)
    total = np.where(ok[..., None], points, 0.0).sum(axis=1)
    count = ok.sum(axis=1)[:, None]
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def body_points(people: list, names: tuple[str, ...]) -> np.ndarray:
    """(P, len(names), 2) the named body keypoints of each person, NaN where missing."""
    out = np.full((len(people), len(names), 2), np.nan)
    for p, person in enumerate(people):
        idx = [person.skeleton.index(n) for n in names]
        out[p] = person.as_array()[idx, :2]
    return out


def person_sizes(people: list) -> np.ndarray:
    """(P,) the longer side of each person's keypoint box (0 for a person with no keypoints)."""
    out = np.zeros(len(people))
    for p, person in enumerate(people):
        box = person.bbox()
        if box is not None:
            out[p] = max(box[2] - box[0], box[3] - box[1])
    return out


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.hypot(*(a - b).T)


def hand_crops(people: list, side: str) -> Crops:
    """One crop per person for the hand at their own ``side`` (``"L"`` or ``"R"``) wrist: turned along the forearm,
    sized from the arm; a person without an elbow gets an upright crop sized from their body, one without a wrist a
    NaN row."""
    pts = body_points(people, (f"{side}Wrist", f"{side}Elbow", f"{side}Shoulder"))
    wrist, elbow, shoulder = pts[:, 0], pts[:, 1], pts[:, 2]
    forearm, upper = _dist(wrist, elbow), _dist(elbow, shoulder)
    has_elbow = np.isfinite(forearm) & (forearm > 0)
    side_len = _ARM_SIDE * np.fmax(forearm, _UPPER_ARM * upper)
    fallback = 0.2 * person_sizes(people)  # no elbow: a fifth of the person's box
    side_len = np.where(np.isfinite(side_len), side_len, fallback)
    v = wrist - elbow
    along = v / np.where(has_elbow, forearm, 1.0)[:, None]
    centres = np.where(has_elbow[:, None], wrist + _BEYOND_WRIST * v + _FURTHER * side_len[:, None] * along, wrist)
    angles = np.where(has_elbow, np.arctan2(v[:, 0], -v[:, 1]), 0.0)
    return Crops(centres, side_len, angles)


def face_crops(people: list) -> Crops:
    """One crop per person around the head points (nose, eyes, ears), levelled by the eyes; a person with no nose
    and no eyes gets a NaN row."""
    pts = body_points(people, ("Nose", "REye", "LEye", "REar", "LEar", "Neck"))
    centres = nan_mean(pts[:, :3])
    # the eyes and ears measure the head itself; the neck-to-nose distance (posture-dependent) only when they cannot
    head = np.fmax(_FACE_FROM["ears"] * _dist(pts[:, 3], pts[:, 4]), _FACE_FROM["eyes"] * _dist(pts[:, 1], pts[:, 2]))
    sizes = np.where(np.isfinite(head), head, _FACE_FROM["neck"] * _dist(pts[:, 0], pts[:, 5]))
    v = pts[:, 2] - pts[:, 1]
    angles = np.where(np.isfinite(v).all(axis=1), np.arctan2(v[:, 1], v[:, 0]), 0.0)
    down = np.stack([-np.sin(angles), np.cos(angles)], axis=1)  # the levelled crop's downward direction
    return Crops(centres + _FACE_BELOW * sizes[:, None] * down, sizes, angles)


def box_crops(boxes: np.ndarray, image_size: tuple[int, int], scale: float, what: str) -> Crops:
    """Upright crops ``scale`` times the longer side of (N, 4) ``[x, y, w, h]`` boxes in image pixels.

    Raises :class:`BoxError` for an array of another shape; a box with a NaN/inf value, no area, or wholly outside
    the image gives a NaN row (that person's points are missing).
    """
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 4)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise BoxError(f"{what} boxes must be an (N, 4) array of x, y, w, h in image pixels, got shape {arr.shape}")
    x, y, w, h = arr.T
    width, height = image_size
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(arr).all(axis=1) & (w > 0) & (h > 0) & (x < width) & (y < height) & (x + w > 0) & (y + h > 0)
    centres = np.where(ok[:, None], np.stack([x + w / 2, y + h / 2], axis=1), np.nan)
    return Crops(centres, np.where(ok, scale * np.fmax(w, h), np.nan), np.zeros(len(arr)))
