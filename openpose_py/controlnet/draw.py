"""ControlNet's OpenPose drawing: the pictures ControlNet's OpenPose models were trained on, pixel for pixel.

The conventions (those of controlnet_aux 0.0.10 and ComfyUI's auxiliary preprocessors), on an RGB canvas:

- body: the 17 drawn limbs of :data:`~openpose_py.skeleton.COCO_18` in its order, each a filled 1-degree ellipse
  polygon 4 pixels in half-width whose centre, half-length and angle are truncated to integers, in 60 % of the
  limb's colour; then each point as a filled circle of radius 4 in its colour; limb i and point i share colour i of
  :data:`BODY_COLORS`;
- hands: the 20 bones, 2 pixels thick, bone i in the fully saturated hue i / 20, then each point as a red circle of
  radius 4;
- face: each point as a white circle of radius 3;
- a point is placed at ``(int(x * W), int(y * H))``; hand and face points (and bones touching them) are drawn only
  where both pixel coordinates are at least 1; people are drawn one after the other, body, left hand, right hand,
  face.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Sequence

import cv2
import numpy as np

from ..results import Keypoint as PixelKeypoint
from ..results import Person
from ..skeleton import COCO_18
from .poses import PART_NAMES, Keypoint, PoseResult, pose_results

__all__ = ["BODY_COLORS", "HAND_EDGES", "draw_body", "draw_hand", "draw_face", "draw_poses", "ControlNetStyle"]

#: Body point i and limb i colours (RGB): 18 steps round the colour wheel, starting at red.
BODY_COLORS: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
    (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
    (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)
_LIMBS = tuple((limb.a, limb.b) for limb in COCO_18.render_limbs)
_STICK_HALF_WIDTH = 4
_BODY_RADIUS = 4
_HAND_RADIUS = 4
_HAND_THICKNESS = 2
_FACE_RADIUS = 3
_HAND_POINT_COLOR = (0, 0, 255)
_FACE_COLOR = (255, 255, 255)
_EDGE = 0.01  # a hand or face pixel coordinate must exceed this (be >= 1) to be drawn

#: The 20 hand bones as (point, point): wrist to each finger's base, then along the finger, thumb first.
HAND_EDGES: tuple[tuple[int, int], ...] = tuple(
    pair for finger in range(5) for pair in [(0, 4 * finger + 1)] + [(4 * finger + j, 4 * finger + j + 1)
                                                                     for j in range(1, 4)])


def _hue_rgb(hue: float) -> tuple[float, float, float]:
    """Fully saturated, full-value colour of ``hue`` in [0, 1), as floats in [0, 255] (rounded by OpenCV when drawn);
    the arithmetic is the textbook HSV sector formula with s = v = 1, done in the usual order so that the values
    agree to the last bit with matplotlib's hsv_to_rgb."""
    sector = int(hue * 6.0)
    f = hue * 6.0 - sector
    p, q, t = 0.0, 1.0 - f, 1.0 - (1.0 - f)
    r, g, b = ((1.0, t, p), (q, 1.0, p), (p, 1.0, t), (p, q, 1.0), (t, p, 1.0), (1.0, p, q))[sector % 6]
    return r * 255, g * 255, b * 255


_HAND_EDGE_COLORS = tuple(_hue_rgb(i / float(len(HAND_EDGES))) for i in range(len(HAND_EDGES)))


def _pixel(k: Keypoint, width: int, height: int) -> tuple[int, int]:
    return int(k.x * width), int(k.y * height)


def draw_body(canvas: np.ndarray, keypoints: Sequence[Keypoint | None]) -> np.ndarray:
    """Draw one body (18 normalised points, None where missing) on ``canvas`` (H, W, 3) in place; returns it."""
    height, width = canvas.shape[:2]
    w, h = float(width), float(height)
    for (ia, ib), color in zip(_LIMBS, BODY_COLORS):
        a, b = keypoints[ia], keypoints[ib]
        if a is None or b is None:
            continue
        xa, xb, ya, yb = a.x * w, b.x * w, a.y * h, b.y * h
        half_length = ((ya - yb) ** 2 + (xa - xb) ** 2) ** 0.5 / 2
        angle = math.degrees(math.atan2(ya - yb, xa - xb))
        centre = (int((xa + xb) / 2), int((ya + yb) / 2))
        polygon = cv2.ellipse2Poly(centre, (int(half_length), _STICK_HALF_WIDTH), int(angle), 0, 360, 1)
        cv2.fillConvexPoly(canvas, polygon, [int(float(c) * 0.6) for c in color])
    for k, color in zip(keypoints, BODY_COLORS):
        if k is not None:
            cv2.circle(canvas, _pixel(k, width, height), _BODY_RADIUS, color, thickness=-1)
    return canvas


def _inside(p: tuple[int, int]) -> bool:
    return p[0] > _EDGE and p[1] > _EDGE


def draw_hand(canvas: np.ndarray, keypoints: Sequence[Keypoint | None] | None) -> np.ndarray:
    """Draw one hand (21 normalised points; None or an empty list draws nothing) in place; returns ``canvas``."""
    if not keypoints:
        return canvas
    height, width = canvas.shape[:2]
    pixels = [None if k is None else _pixel(k, width, height) for k in keypoints]
    for (ia, ib), color in zip(HAND_EDGES, _HAND_EDGE_COLORS):
        a, b = pixels[ia], pixels[ib]
        if a is not None and b is not None and _inside(a) and _inside(b):
            cv2.line(canvas, a, b, color, thickness=_HAND_THICKNESS)
    for p in pixels:
        if p is not None and _inside(p):
            cv2.circle(canvas, p, _HAND_RADIUS, _HAND_POINT_COLOR, thickness=-1)
    return canvas


def draw_face(canvas: np.ndarray, keypoints: Sequence[Keypoint | None] | None) -> np.ndarray:
    """Draw one face (normalised points; None or an empty list draws nothing) in place; returns ``canvas``."""
    if not keypoints:
        return canvas
    height, width = canvas.shape[:2]
    for k in keypoints:
        if k is not None:
            p = _pixel(k, width, height)
            if _inside(p):
                cv2.circle(canvas, p, _FACE_RADIUS, _FACE_COLOR, thickness=-1)
    return canvas


def draw_poses(poses: Sequence[PoseResult], H: int, W: int, draw_body: bool = True,  # noqa: N803 (their names)
               draw_hand: bool = True, draw_face: bool = True) -> np.ndarray:
    """A black (H, W, 3) uint8 RGB canvas with ``poses`` drawn in ControlNet's style (controlnet_aux's
    ``draw_poses``)."""
    canvas = np.zeros((int(H), int(W), 3), dtype=np.uint8)
    for pose in poses:  # the flags shadow the module's drawing functions: those are reached by their aliases
        if draw_body:
            _draw_body(canvas, pose.body.keypoints)
        if draw_hand:
            _draw_hand(canvas, pose.left_hand)
            _draw_hand(canvas, pose.right_hand)
        if draw_face:
            _draw_face(canvas, pose.face)
    return canvas


_draw_body, _draw_hand, _draw_face = draw_body, draw_hand, draw_face


@dataclass(frozen=True, slots=True)
class ControlNetStyle:
    """Pictures for the CLI's sinks in ControlNet's style: a black canvas of the source's size (or ``size``,
    (width, height)) with the people drawn as :func:`draw_poses` draws them, returned BGR like every picture the
    sinks write. Points (of the body, the hands and the face) scoring at or below ``threshold`` are left out."""

    threshold: float = 0.0
    size: tuple[int, int] | None = None
    hands: bool = True
    face: bool = True

    def output_size(self, size: tuple[int, int]) -> tuple[int, int]:
        return self.size if self.size is not None else size

    def draw(self, image: np.ndarray, people: Sequence[Person]) -> np.ndarray:
        height, width = image.shape[:2]
        poses = pose_results([_above(p, self.threshold) for p in people], width, height)
        out_w, out_h = self.output_size((width, height))
        canvas = draw_poses(poses, out_h, out_w, draw_hand=self.hands, draw_face=self.face)
        return np.ascontiguousarray(canvas[:, :, ::-1])


def _above(person: Person, threshold: float) -> Person:
    if threshold <= 0:
        return person

    def keep(points: Sequence[PixelKeypoint | None] | None) -> tuple[PixelKeypoint | None, ...] | None:
        return None if points is None else tuple(k if k is not None and k.score > threshold else None for k in points)

    return replace(person, keypoints=keep(person.keypoints),
                   **{name: keep(getattr(person, name)) for name in PART_NAMES if hasattr(person, name)})
