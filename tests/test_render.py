"""Rendering: skeleton colours and visibility rules, text overlays, heatmap and PAF pictures, on synthetic inputs."""

from __future__ import annotations

import numpy as np
import pytest

from openpose_py.render import RenderStyle, draw_people, draw_text, heatmap_picture, maps_picture, paf_picture
from openpose_py.results import Keypoint, Person
from openpose_py.skeleton import BODY_25, COCO_18


def _person(points: dict[str, tuple[float, float, float]], skeleton=COCO_18) -> Person:
    kps = tuple(Keypoint(n, *points[n]) if n in points else None for n in skeleton.keypoints)
    return Person(kps, 1.0, skeleton)


PLAIN = RenderStyle(antialias=False)


def test_limbs_take_the_colour_of_their_second_keypoint_and_circles_their_own():
    image = np.zeros((400, 400, 3), np.uint8)
    person = _person({"Neck": (200, 100, 0.9), "RShoulder": (120, 100, 0.9), "RElbow": (120, 250, 0.9)})
    out = draw_people(image, [person], PLAIN)
    colors = COCO_18.colors
    assert tuple(out[100, 200]) == colors[COCO_18.index("Neck")]
    assert tuple(out[250, 120]) == colors[COCO_18.index("RElbow")]
    # halfway along Neck->RShoulder and RShoulder->RElbow: the colour of each limb's B end
    assert tuple(out[100, 160]) == colors[COCO_18.index("RShoulder")]
    assert tuple(out[180, 120]) == colors[COCO_18.index("RElbow")]
    assert not image.any(), "the input image must not be modified"


def test_low_scores_and_redundant_limbs_are_not_drawn():
    image = np.zeros((400, 400, 3), np.uint8)
    person = _person({"Neck": (200, 200, 0.9), "LShoulder": (300, 200, 0.04), "REar": (100, 100, 0.9),
                      "RShoulder": (100, 300, 0.9)})
    out = draw_people(image, [person], PLAIN)
    assert not out[200, 300].any() and not out[200, 250].any(), "a keypoint at the 0.05 threshold is hidden"
    assert not out[200, 100].any(), "RShoulder-REar is a redundant limb and is not rendered"
    assert out[300, 100].any() and out[250, 150].any()
    lowered = draw_people(image, [person], RenderStyle(threshold=0.01, antialias=False))
    assert lowered[200, 300].any()


def test_stroke_width_grows_with_image_size_and_person_size():
    def width_of_limb(size: int, span: float) -> int:
        image = np.zeros((size, size, 3), np.uint8)
        c = size / 2
        person = _person({"Neck": (c - span * size / 2, c, 0.9), "RShoulder": (c + span * size / 2, c, 0.9)})
        out = draw_people(image, [person], PLAIN)
        return int(out[:, int(c)].any(axis=1).sum())

    assert width_of_limb(1500, 0.8) > width_of_limb(300, 0.8)
    assert width_of_limb(1500, 0.8) > width_of_limb(1500, 0.1)


def test_body25_feet_are_drawn():
    image = np.zeros((200, 200, 3), np.uint8)
    person = _person({"LAnkle": (50, 100, 0.9), "LBigToe": (150, 100, 0.9)}, BODY_25)
    out = draw_people(image, [person], PLAIN)
    assert tuple(out[100, 100]) == BODY_25.colors[BODY_25.index("LBigToe")]


def test_text_overlay_darkens_a_corner_and_keeps_the_rest():
    image = np.full((240, 320, 3), 200, np.uint8)
    out = draw_text(image, ["12.3 FPS", "2 people"])
    assert out.shape == image.shape
    assert (out[:2, :2] < 200).all() and (out[-20:, -20:] == 200).all()
    assert (out[:60, :100] == 255).any(), "white text is written"


def test_heatmap_picture_colours_peaks_and_leaves_the_rest_grey():
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    heatmaps = np.zeros((COCO_18.num_heatmaps, h, w), np.float32)
    heatmaps[3] = np.exp(-((xx - 40) ** 2 + (yy - 60) ** 2) / (2 * 5.0 ** 2))
    heatmaps[-1] = 1.0  # background must not be projected
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    out = heatmap_picture(image, heatmaps)
    b, g, r = (int(v) for v in out[60, 40])
    assert r > 100 and r > b + 50, "a peak of 1 is JET red"
    far = out[10, 150].astype(int)
    assert far[0] == far[1] == far[2], "where every part map is 0 the image shows through in grey"


def test_paf_picture_shows_direction_as_hue_and_length_as_opacity():
    h, w = 100, 200
    pafs = np.zeros((COCO_18.num_pafs, h, w), np.float32)
    limb = COCO_18.limbs[0]
    pafs[limb.paf_x, 20:80, 10:60] = 1.0  # pointing right
    pafs[limb.paf_x, 20:80, 110:160] = -1.0  # pointing left
    image = np.full((h, w, 3), 128, np.uint8)
    out = paf_picture(image, pafs, COCO_18)
    right, left = out[50, 35].astype(int), out[50, 135].astype(int)
    assert np.abs(right - left).sum() > 200, "opposite directions get clearly different colours"
    assert right.max() - right.min() > 100 and left.max() - left.min() > 100, "unit vectors are saturated"
    assert out[5, 90, 0] == out[5, 90, 1] == out[5, 90, 2], "no field: grey image"
    with pytest.raises(ValueError, match="PAF channels"):
        paf_picture(image, pafs[:10], COCO_18)


def test_maps_picture_is_two_labelled_panels():
    h, w = 64, 96
    image = np.zeros((h, w, 3), np.uint8)
    heatmaps = np.zeros((COCO_18.num_heatmaps, h, w), np.float32)
    pafs = np.zeros((COCO_18.num_pafs, h, w), np.float32)
    out = maps_picture(image, heatmaps, pafs, COCO_18)
    assert out.shape == (h, 2 * w, 3) and out.dtype == np.uint8
    with pytest.raises(ValueError, match="do not match the image"):
        maps_picture(image, heatmaps[:, :10], pafs, COCO_18)


def test_a_tracked_person_is_drawn_in_its_track_colour_with_its_id_above():
    from openpose_py.render import track_color

    image = np.zeros((400, 400, 3), np.uint8)
    person = _person({"Neck": (200, 150, 0.9), "RShoulder": (120, 150, 0.9), "RElbow": (120, 300, 0.9)})
    plain = draw_people(image, [person], PLAIN)
    tracked = draw_people(image, [person.with_track_id(7)], PLAIN)
    assert tuple(tracked[150, 200]) == tuple(tracked[225, 120]) == track_color(7), "every part in the id's colour"
    assert track_color(7) != track_color(8)
    assert tracked[:140].any() and not plain[:140].any(), "the id is written above the topmost keypoint"
    untracked = draw_people(image, [person.with_track_id(7)], RenderStyle(antialias=False, color_by_track=False))
    np.testing.assert_array_equal(untracked, plain)


def test_id_labels_are_drawn_over_every_skeleton_on_a_box_of_the_track_colour():
    from openpose_py.render import track_color

    image = np.zeros((400, 400, 3), np.uint8)
    first = _person({"Neck": (200, 150, 0.9), "RShoulder": (120, 150, 0.9), "RElbow": (120, 300, 0.9)})
    # a second person whose limb runs right through where the first one's label goes (just above y = 150)
    second = _person({"Neck": (100, 130, 0.9), "RShoulder": (300, 130, 0.9)})
    out = draw_people(image, [first.with_track_id(3), second.with_track_id(4)], PLAIN)
    ys, xs = np.nonzero((out[:140] == track_color(3)).all(axis=-1))  # the first one's label: above its neck
    box = out[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    assert box.shape[0] > 10 and box.shape[1] > 10
    assert not (box == track_color(4)).all(axis=-1).any(), "the later skeleton's limb does not cover the id"
    assert ((box == 0).all(axis=-1) | (box == 255).all(axis=-1)).any(), "the digits contrast with the box"
    assert (out[130, 100:300] == track_color(4)).all(axis=-1).sum() > 100, "the limb is there, under the label"
