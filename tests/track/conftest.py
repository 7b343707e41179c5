"""Synthetic people for the tracker tests: a fixed random pose per id, placed and scaled where a test says."""

from __future__ import annotations

import cv2
import numpy as np

from openpose_py.results import Person, people_from_array
from openpose_py.skeleton import Skeleton


def template(skeleton: Skeleton, seed: int) -> np.ndarray:
    """(K, 2) keypoint offsets of a person 1 unit tall, centred on 0."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(-0.25, 0.25, skeleton.num_keypoints),
                     np.linspace(-0.5, 0.5, skeleton.num_keypoints)], axis=1)


def person(skeleton: Skeleton, seed: int, cx: float, cy: float, height: float = 200.0,
           missing: tuple[int, ...] = (), jitter: float = 0.0, rng: np.random.Generator | None = None) -> Person:
    """One person of ``skeleton`` with pose ``seed`` centred at (cx, cy), all keypoints at score 0.9 but ``missing``."""
    xy = template(skeleton, seed) * height + (cx, cy)
    if jitter:
        xy = xy + (rng or np.random.default_rng()).normal(0.0, jitter, xy.shape)
    rows = np.concatenate([xy, np.full((len(xy), 1), 0.9)], axis=1)
    rows[list(missing), 2] = 0.0
    return people_from_array(rows[None], skeleton)[0]


def painted(size: tuple[int, int], people: list[tuple[Person, tuple, tuple]]) -> np.ndarray:
    """A (H, W, 3) grey frame with each person's limbs drawn 9 px thick, back to front: ``(person, colour of the
    head, torso and arms, colour of the legs)``, BGR."""
    width, height = size
    image = np.full((height, width, 3), 128, np.uint8)
    for p, upper, legs in people:
        for limb in p.skeleton.render_limbs:
            a, b = p.keypoints[limb.a], p.keypoints[limb.b]
            if a is None or b is None:
                continue
            leg = "Knee" in p.skeleton.keypoints[limb.b] or "Ankle" in p.skeleton.keypoints[limb.b]
            cv2.line(image, (round(a.x), round(a.y)), (round(b.x), round(b.y)), legs if leg else upper, 9)
    return image
