"""Limb colours read from a frame, and how alike two people's are."""

from __future__ import annotations

import numpy as np

from openpose_py.skeleton import COCO_18
from openpose_py.track.appearance import colour_similarity, limb_colours

from .conftest import painted, person

LIMB_A = np.array([lb.a for lb in COCO_18.render_limbs])
LIMB_B = np.array([lb.b for lb in COCO_18.render_limbs])
RED, BLUE = (40, 40, 200), (200, 60, 30)


def _arrays(people):
    arr = np.stack([p.as_array() for p in people])
    ok = np.isfinite(arr).all(axis=-1) & (arr[..., 2] > 0)
    return np.where(ok[..., None], arr[..., :2], 0.0), ok


def test_limb_colours_are_the_pixels_along_each_limb_and_tell_people_apart():
    a, b = person(COCO_18, 0, 150, 200, missing=(4,)), person(COCO_18, 1, 450, 200)
    xy, ok = _arrays([a, b])
    colours, trusted = limb_colours(painted((600, 400), [(a, RED, RED), (b, BLUE, BLUE)]), xy, ok, LIMB_A, LIMB_B)
    wrist = [i for i, lb in enumerate(COCO_18.render_limbs) if 4 in (lb.a, lb.b)]
    assert not trusted[0, wrist].any() and trusted[1].all(), "a limb with a missing end has no colour"
    assert np.abs(colours[0][trusted[0]] - RED).max() < 40 and np.abs(colours[1] - BLUE).max() < 40
    looks, count = colour_similarity(colours, trusted, colours, trusted)
    assert looks[0, 0] > 0.95 and looks[1, 1] > 0.95 and looks[0, 1] < 0.05
    assert count.tolist() == [[trusted[0].sum()] * 2, [trusted[0].sum(), trusted[1].sum()]]


def test_a_limb_inside_the_box_of_someone_in_front_is_not_trusted_and_one_off_frame_neither():
    back = person(COCO_18, 0, 330, 200, height=150)  # feet higher in the frame: further away
    front = person(COCO_18, 1, 330, 220, height=200)
    gone = person(COCO_18, 2, 700, 200)  # outside a 600 px wide frame
    xy, ok = _arrays([back, front, gone])
    _, trusted = limb_colours(painted((600, 400), [(back, RED, RED), (front, BLUE, BLUE)]), xy, ok, LIMB_A, LIMB_B)
    assert not trusted[0].any() and trusted[1].all() and not trusted[2].any()
