"""Feet: bodies in BODY_25 order. MidHip is the hips' midpoint; each foot's heel and big toe come from MediaPipe's
whole-body pose network (BlazePose) run on a crop around the person.

BlazePose gives a heel and a "foot index" (the tip of the foot) per foot; the foot tip stands for OpenPose's big
toe. It has no small toe: ``LSmallToe`` and ``RSmallToe`` stay missing rather than guessed. A foot is kept only when
BlazePose's ankle on that side lands near the body's own ankle (within ``_ANKLE_AGREEMENT`` of the person's size), or,
for a body without that ankle, its knee near the body's knee; so a crop that shows someone else's feet adds nothing.
"""

from __future__ import annotations

import numpy as np

from ..results import Keypoint, Person
from ..skeleton import BODY_25
from .boxes import body_points, nan_mean, person_sizes
from .networks import LandmarkNetwork
from .passes import Crops, crops_around, run_crops, sigmoid, up_angle

__all__ = ["to_body25", "find_feet", "FEET_NOT_GIVEN"]

#: BODY_25 points this module never gives (BlazePose has no small toes).
FEET_NOT_GIVEN = ("LSmallToe", "RSmallToe")
# BlazePose landmarks per side: ankle (for the check; its knee is two before it), heel, foot tip (as the big toe)
_BLAZE = {"L": (27, 29, 31), "R": (28, 30, 32)}
_PERSON_SCALE = 1.5  # MediaPipe's pose crop is 1.25 times the body; 1.5 kept more feet on the badminton frames
_ANKLE_AGREEMENT = 0.1
_VISIBLE = 0.5


def to_body25(person: Person, feet: np.ndarray | None = None) -> Person:
    """``person`` (COCO-18, or BODY_25 as it is) in BODY_25 order: MidHip from both hips (the lower score), feet from
    ``feet`` (6, 3) in BODY_25's foot order (NaN: missing) when given; parts and track id kept."""
    if person.skeleton is BODY_25:
        return person
    have = set(person.skeleton.keypoints)
    kps = {n: person[n] if n in have else None for n in BODY_25.keypoints}
    r, left = kps["RHip"], kps["LHip"]
    if r is not None and left is not None:
        kps["MidHip"] = Keypoint("MidHip", (r.x + left.x) / 2, (r.y + left.y) / 2, min(r.score, left.score))
    if feet is not None:
        ok = np.isfinite(feet).all(axis=1) & (feet[:, 2] > 0)
        for name, (x, y, c), good in zip(BODY_25.keypoints[19:], np.asarray(feet, float).tolist(), ok):
            kps[name] = Keypoint(name, x, y, c) if good else None
    return Person(tuple(kps.values()), person.score, BODY_25, person.track_id, person.left_hand, person.right_hand,
                  person.face)


def _decode(outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    n = len(outputs[0])
    land = outputs[0].reshape(n, 39, 5)
    points = land[:, :33, [0, 1, 3]]
    points[..., 2] = sigmoid(points[..., 2])  # the visibility, carried beside x, y
    return points, sigmoid(outputs[1][:, 0])


def _person_crops(people: list[Person]) -> Crops:
    """BlazePose's crop: centred on the hips' midpoint, turned so hips -> neck points up, its side ``_PERSON_SCALE``
    times the diameter of the circle around the hips that holds every body point (MediaPipe's pose rect takes 1.25);
    a person without hips gets a crop around their points."""
    points = np.stack([p.as_array()[:, :2] for p in people]).astype(np.float64)
    core = body_points(people, ("RHip", "LHip", "Neck"))
    hips = nan_mean(core[:, :2])
    angles = np.nan_to_num(up_angle(hips, core[:, 2]), nan=0.0)
    around = crops_around(points, angles, _PERSON_SCALE)
    dist = np.hypot(*np.moveaxis(points - hips[:, None], -1, 0))
    reach = np.max(np.where(np.isfinite(dist), dist, -np.inf), axis=1)
    has_hips = np.isfinite(hips).all(axis=1) & (reach > 0)
    return Crops(np.where(has_hips[:, None], hips, around.centres),
                 np.where(has_hips, 2.0 * _PERSON_SCALE * reach, around.sizes), angles)


def find_feet(network: LandmarkNetwork, image_bgr: np.ndarray, people: list[Person], *, presence: float = 0.5,
              batch: int = 32) -> np.ndarray:
    """(P, 6, 3) BODY_25 foot points (LBigToe, LSmallToe, LHeel, RBigToe, RSmallToe, RHeel) of each person, NaN
    where not found (small toes always)."""
    out = np.full((len(people), 6, 3), np.nan)
    if not people:
        return out
    points, score = run_crops(network, _decode, image_bgr, _person_crops(people), batch)
    visibility = points[..., 2]
    joints = body_points(people, ("LAnkle", "RAnkle", "LKnee", "RKnee"))
    near = _ANKLE_AGREEMENT * person_sizes(people)
    for s, (ankle, heel, tip) in enumerate(_BLAZE.values()):
        # BlazePose's ankle must land on the body's; where the body has no ankle, its knee on the body's knee
        body_ankle, body_knee = joints[:, s], joints[:, 2 + s]
        has_ankle = np.isfinite(body_ankle).all(axis=1)
        miss = np.where(has_ankle, np.hypot(*(points[:, ankle, :2] - body_ankle).T),
                        np.hypot(*(points[:, ankle - 2, :2] - body_knee).T))
        with np.errstate(invalid="ignore"):
            agree = (miss <= near) & (score >= presence)
        for slot, lm in ((0, tip), (2, heel)):
            good = agree & (visibility[:, lm] >= _VISIBLE)
            out[good, 3 * s + slot, :2] = points[good, lm, :2]
            out[good, 3 * s + slot, 2] = visibility[good, lm]
    return out
