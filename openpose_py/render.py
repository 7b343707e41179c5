"""Drawing results on images: skeletons in OpenPose's colours, text overlays, and readable heatmap/PAF pictures.

Every function takes a (H, W, 3) uint8 BGR image and returns a new image; the input is never modified.
Maps follow the package glossary: heatmaps (K+1, H, W) with background last, PAFs (2L, H, W), both already resampled
to the image size (what :meth:`PoseEstimator.network_output` returns).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from .images import as_bgr
from .results import Person
from .skeleton import Skeleton

__all__ = [
    "RenderStyle",
    "draw_people",
    "track_color",
    "draw_text",
    "heatmap_picture",
    "paf_picture",
    "maps_picture",
]


@dataclass(frozen=True, slots=True)
class RenderStyle:
    """How skeletons are drawn; the defaults are OpenPose's CPU renderer.

    Attributes:
        threshold: keypoints scoring at or below this are not drawn, nor limbs touching them (``--render_threshold``).
        circle_ratio: keypoint circle thickness relative to sqrt(image area), before the person-size factor.
        line_ratio: limb thickness relative to the circle thickness.
        scale_with_person: shrink the strokes of people that are small in the frame, as OpenPose does.
        antialias: draw with anti-aliased strokes (OpenPose uses plain 8-connected lines).
        color_by_track: draw a tracked person (``track_id >= 0``) all in its track's colour, with its id beside it.
    """

    threshold: float = 0.05
    circle_ratio: float = 1.0 / 75.0
    line_ratio: float = 0.75
    scale_with_person: bool = True
    antialias: bool = True
    color_by_track: bool = True


@functools.lru_cache(maxsize=None)
def track_color(track_id: int) -> tuple[int, int, int]:
    """A bright BGR colour for a track id; hues step by the golden ratio so that nearby ids look different."""
    hue = int((track_id * 0.618033988749895 % 1.0) * 180.0)
    bgr = cv2.cvtColor(np.array([[[hue, 220, 255]]], dtype=np.uint8), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


def _draw_track_id(canvas: np.ndarray, person: Person, visible: Sequence, color: tuple[int, int, int],
                   line_type: int) -> None:
    """Write the track id just above the person's topmost visible keypoint, left-aligned with its box, on a box of
    the track's colour with black or white text, whichever contrasts more."""
    pts = [(k.x, k.y) for k in visible if k is not None]
    if not pts:
        return
    xs, ys = zip(*pts)
    height, width = canvas.shape[:2]
    font_scale = max(0.5, min(width, height) / 600.0)
    thickness = max(1, int(round(font_scale * 2)))
    text = str(person.track_id)
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
    pad = max(2, thickness)
    x = int(min(max(min(xs), pad), max(width - tw - pad, 0)))
    y = int(min(max(min(ys) - 6 - base, th + 2 * pad), height - base - pad))
    cv2.rectangle(canvas, (x - pad, y - th - pad), (x + tw + pad, y + base + pad), color, -1)
    luma = 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2]
    ink = (0, 0, 0) if luma > 128 else (255, 255, 255)
    cv2.putText(canvas, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, font_scale, ink, thickness, line_type)


def _stroke_sizes(person: Person, image_size: tuple[int, int], style: RenderStyle) -> tuple[int, int]:
    """(line thickness, circle radius) in pixels for one person, following OpenPose's size rule."""
    width, height = image_size
    ratio = 1.0
    if style.scale_with_person:
        pts = [(k.x, k.y) for k in person.keypoints if k is not None and k.score > style.threshold]
        if pts:
            xs, ys = zip(*pts)
            ratio = min(1.0, max((max(xs) - min(xs)) / width, (max(ys) - min(ys)) / height))
    thickness = max(int(round(math.sqrt(width * height) * style.circle_ratio * ratio)), 2)
    return max(int(round(thickness * style.line_ratio)), 1), max(thickness // 2, 1)


def draw_people(image: np.ndarray, people: Sequence[Person], style: RenderStyle = RenderStyle()) -> np.ndarray:
    """Draw each person's limbs (in the colour of the limb's second keypoint) and then its keypoints.

    Redundant limbs (shoulder-ear) are skipped as in OpenPose. A tracked person is drawn in its track's colour with
    its id written above it on a label of that colour, after every skeleton (unless ``style.color_by_track`` is
    off). Returns a new (H, W, 3) uint8 BGR image.
    """
    canvas = as_bgr(image).copy()
    height, width = canvas.shape[:2]
    line_type = cv2.LINE_AA if style.antialias else cv2.LINE_8
    labels = []  # drawn after every skeleton, so that no limb covers an id
    for person in people:
        skeleton = person.skeleton
        colors = skeleton.colors or ((255, 255, 255),) * skeleton.num_keypoints
        tracked = style.color_by_track and person.track_id >= 0
        if tracked:
            colors = (track_color(person.track_id),) * skeleton.num_keypoints
        line, radius = _stroke_sizes(person, (width, height), style)
        visible = [k if k is not None and k.score > style.threshold else None for k in person.keypoints]
        for limb in skeleton.render_limbs:
            a, b = visible[limb.a], visible[limb.b]
            if a is not None and b is not None:
                cv2.line(canvas, (int(round(a.x)), int(round(a.y))), (int(round(b.x)), int(round(b.y))),
                         colors[limb.b], line, line_type)
        for idx, k in enumerate(visible):
            if k is not None:
                cv2.circle(canvas, (int(round(k.x)), int(round(k.y))), radius, colors[idx], -1, line_type)
        if tracked:
            labels.append((person, visible, colors[0]))
    for person, visible, color in labels:
        _draw_track_id(canvas, person, visible, color, line_type)
    return canvas


def draw_text(image: np.ndarray, lines: Sequence[str], *, corner: str = "top_left") -> np.ndarray:
    """Write ``lines`` on a dark box in a corner (``top_left`` or ``top_right``), sized to the image; a new image."""
    canvas = as_bgr(image).copy()
    height, width = canvas.shape[:2]
    font = cv2.FONT_HERSHEY_SIMPLEX
    font_scale = max(0.4, min(width, height) / 720.0)
    thickness = max(1, int(round(font_scale * 1.5)))
    sizes = [cv2.getTextSize(text, font, font_scale, thickness)[0] for text in lines]
    if not sizes:
        return canvas
    pad = int(round(8 * font_scale))
    line_h = max(h for _, h in sizes) + pad
    box_w = max(w for w, _ in sizes) + 2 * pad
    box_h = line_h * len(lines) + pad
    x0 = 0 if corner == "top_left" else max(0, width - box_w)
    region = canvas[0:box_h, x0:x0 + box_w]
    # darken instead of filling so the picture stays visible under the text
    region[...] = (region.astype(np.float32) * 0.35).astype(np.uint8)
    for i, text in enumerate(lines):
        origin = (x0 + pad, (i + 1) * line_h)
        cv2.putText(canvas, text, origin, font, font_scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return canvas


def _gray_backdrop(image: np.ndarray, brightness: float = 0.6) -> np.ndarray:
    """(H, W, 3) float32 grey, dimmed copy of the image, so colours in the picture come only from the maps."""
    gray = cv2.cvtColor(as_bgr(image), cv2.COLOR_BGR2GRAY).astype(np.float32) * brightness
    return np.repeat(gray[..., None], 3, axis=2)


def _check_map(image: np.ndarray, maps: np.ndarray, what: str) -> None:
    if maps.ndim != 3 or maps.shape[1:] != image.shape[:2]:
        raise ValueError(f"{what} of shape {maps.shape} do not match the image {image.shape[:2]}; "
                         "expected (C, H, W) resampled to the image")


def heatmap_picture(image: np.ndarray, heatmaps: np.ndarray, *, opacity: float = 0.85) -> np.ndarray:
    """Keypoint heatmaps max-projected over channels (background excluded), JET-coloured over a grey image.

    Args:
        image: (H, W, 3) uint8 BGR.
        heatmaps: (K+1, H, W) float, background last.
        opacity: colour weight at a heatmap value of 1; lower values fade into the grey image.
    """
    _check_map(image, heatmaps, "heatmaps")
    peak = np.clip(np.max(heatmaps[:-1], axis=0), 0.0, 1.0).astype(np.float32)
    colour = cv2.applyColorMap((peak * 255.0).astype(np.uint8), cv2.COLORMAP_JET).astype(np.float32)
    alpha = (peak * opacity)[..., None]
    out = _gray_backdrop(image) * (1.0 - alpha) + colour * alpha
    return np.clip(out, 0, 255).astype(np.uint8)


def _direction_colours(vx: np.ndarray, vy: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
    """BGR uint8 colours: hue = direction of (vx, vy) (image axes, y down), brightness = magnitude in [0, 1]."""
    hue = ((np.arctan2(vy, vx) + np.pi) / (2 * np.pi) * 180.0) % 180.0
    hsv = np.stack([hue, np.full_like(hue, 255.0), np.clip(magnitude, 0.0, 1.0) * 255.0], axis=-1)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)


def _colour_wheel(diameter: int) -> np.ndarray:
    """(d, d, 3) BGR legend: the colour of each direction, black outside the disc."""
    r = (diameter - 1) / 2.0
    yy, xx = np.mgrid[0:diameter, 0:diameter].astype(np.float32)
    dx, dy = (xx - r) / r, (yy - r) / r
    magnitude = np.where(dx * dx + dy * dy <= 1.0, 1.0, 0.0).astype(np.float32)
    return _direction_colours(dx, dy, magnitude)


def paf_picture(image: np.ndarray, pafs: np.ndarray, skeleton: Skeleton, *, opacity: float = 0.9) -> np.ndarray:
    """The PAF field as colours over a grey image: at each pixel the strongest limb's vector, hue = its direction,
    brightness = its length. A colour wheel in the bottom-right corner is the legend.

    Args:
        image: (H, W, 3) uint8 BGR.
        pafs: (2L, H, W) float, x/y channels of each limb as in ``skeleton``.
    """
    _check_map(image, pafs, "PAFs")
    if pafs.shape[0] != skeleton.num_pafs:
        raise ValueError(f"{skeleton.name} has {skeleton.num_pafs} PAF channels, got {pafs.shape[0]}")
    vx = pafs[list(skeleton.paf_x_channels)].astype(np.float32)  # (L, H, W)
    vy = pafs[list(skeleton.paf_y_channels)].astype(np.float32)
    length = np.sqrt(vx * vx + vy * vy)
    strongest = np.argmax(length, axis=0)[None]
    bx = np.take_along_axis(vx, strongest, 0)[0]
    by = np.take_along_axis(vy, strongest, 0)[0]
    magnitude = np.clip(np.take_along_axis(length, strongest, 0)[0], 0.0, 1.0)
    colour = _direction_colours(bx, by, np.ones_like(magnitude)).astype(np.float32)
    alpha = (magnitude * opacity)[..., None]
    out = np.clip(_gray_backdrop(image) * (1.0 - alpha) + colour * alpha, 0, 255).astype(np.uint8)
    height, width = out.shape[:2]
    diameter = max(16, min(height, width) // 6)
    if diameter + 4 <= min(height, width):
        wheel = _colour_wheel(diameter)
        region = out[height - diameter - 4:height - 4, width - diameter - 4:width - 4]
        inside = wheel.any(axis=2)
        region[inside] = wheel[inside]
    return out


def maps_picture(image: np.ndarray, heatmaps: np.ndarray, pafs: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """One readable picture per image: heatmap panel and PAF panel side by side, each labelled.

    Returns (H, 2W, 3) uint8 BGR.
    """
    parts = skeleton.num_keypoints
    left = draw_text(heatmap_picture(image, heatmaps), [f"heatmaps: max over {parts} parts"])
    right = draw_text(paf_picture(image, pafs, skeleton),
                      [f"PAFs: {skeleton.num_limbs} limbs", "hue = direction, brightness = length"])
    return np.concatenate([left, right], axis=1)
