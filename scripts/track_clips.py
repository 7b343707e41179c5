"""Synthetic tracking clips with known identities: real people cut from COCO photos (segmentation masks, keypoint
annotations) walking over a backdrop along crossing paths, entering and leaving the frame.

Each crossing clip (clip0-clip3) has three people: A walks right in front, B walks left behind A (they cross
mid-clip, A hiding B), C enters from the right later, in front of both, and crosses A near the right edge. Each
hiding clip (hide0-hide2, :func:`_hiding`) has: A standing in the middle; B walking in from the left behind A, staying
fully hidden behind A for a second and walking back out the way it came; A then walking out at the right edge and a
different person D entering at that same place a fraction of a second later; and one frame where a fourth person
flashes up (a detection that is no one: it is not in the ground truth). Ground truth per frame: every person's
COCO-18 keypoints (from the COCO-17 annotation through the skeleton's reorder), which of them are visible (labelled,
inside the frame and not covered by someone in front), whether the person counts (enough of it visible) and the
area of the box of all its labelled keypoints (the whole person's scale, for the metrics' second reading).
Used by scripts/track_eval.py; importable, no side effects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from openpose_py.skeleton import COCO_18
from openpose_py.track.metrics import FrameTruth
from openpose_py.track.similarity import keypoint_box_area

__all__ = ["Cutout", "Walker", "Clip", "CLIPS", "load_cutouts", "render_clip", "ghost_poses", "smaller"]

SIZE = (640, 360)  # canvas width, height
FPS = 30.0
FRAMES = 90
#: COCO annotation ids of whole, mostly upright people in the dev set (standing, two children, a skier, a skater)
PEOPLE = (230831, 460884, 187444, 186932, 426612, 488820)
#: a person counts in a frame when at least this many of its labelled keypoints are visible
MIN_VISIBLE = 5


@dataclass(frozen=True)
class Cutout:
    """A person cut out of a photo: BGR pixels, alpha (0..1) and COCO-18 keypoints (x, y, labelled) in its box."""

    image: np.ndarray
    alpha: np.ndarray
    keypoints: np.ndarray  # (18, 3)


@dataclass(frozen=True)
class Walker:
    """A cutout scaled to ``height`` pixels moving from x0 to x1 (its box centre) between frames, feet at ``foot``;
    with ``path`` ((frame, x) pairs) it follows those instead; a ``ghost`` is drawn but is not in the ground truth."""

    person: int
    height: float
    first: int
    last: int
    x0: float
    x1: float
    foot: float
    path: tuple[tuple[int, float], ...] = ()
    ghost: bool = False

    def x(self, f: int) -> float:
        if self.path:
            return float(np.interp(f, [p[0] for p in self.path], [p[1] for p in self.path]))
        u = (f - self.first) / max(self.last - self.first, 1)
        return self.x0 + u * (self.x1 - self.x0)


@dataclass(frozen=True)
class Clip:
    name: str
    walkers: tuple[Walker, ...]  # back to front (drawing order)
    frames: int = FRAMES
    body_centred: bool = False  # walkers' x is the centre of their opaque pixels, not of their box


def _plan(name: str, a: int, b: int, c: int, speed: float = 1.0) -> Clip:
    span = 760.0 * speed
    return Clip(name, (
        Walker(b, 185.0, 0, FRAMES - 1, 320 + span / 2, 320 - span / 2, 305.0),  # B: behind, walking left
        Walker(a, 210.0, 0, FRAMES - 1, 320 - span / 2, 320 + span / 2, 335.0),  # A: in front, walking right
        Walker(c, 225.0, 50, FRAMES - 1, 700.0, 700.0 - 5.0 * 39, 350.0),  # C: enters late from the right
    ))


def _hiding(name: str, a: int, b: int, d: int, ghost: int) -> Clip:
    n = 170
    return Clip(name, (
        # B: in from the left behind A, hidden behind A from frame 45 to 80, back out to the left
        Walker(b, 160.0, 0, n - 1, 0, 0, 300.0, path=((0, -40.0), (45, 320.0), (80, 320.0), (n - 1, 60.0))),
        # A: stands in the middle, then walks out at the right edge (gone by about frame 128)
        Walker(a, 215.0, 0, 130, 0, 0, 330.0, path=((0, 320.0), (100, 320.0), (130, 760.0))),
        # D, someone else: enters at the right edge 8 frames after A has gone
        Walker(d, 215.0, 134, n - 1, 0, 0, 330.0, path=((134, 700.0), (n - 1, 520.0))),
        # a person on screen for a single frame: a false detection, no one to track
        Walker(ghost, 150.0, 60, 60, 540.0, 540.0, 320.0, ghost=True),
    ), n, body_centred=True)


CLIPS = (
    _plan("clip0", 0, 1, 2),
    _plan("clip1", 5, 4, 3),
    _plan("clip2", 1, 2, 0, speed=0.9),
    _plan("clip3", 3, 5, 4, speed=1.1),
    _hiding("hide0", 5, 1, 2, 0),  # the one in front must be the wider (the skier, the skater, the child)
    _hiding("hide1", 4, 0, 3, 1),
    _hiding("hide2", 4, 2, 5, 3),
)


def smaller(clip: Clip, factor: float) -> Clip:
    """The same clip with every person ``factor`` times as tall (feet where they were, paths unchanged): people
    tens of pixels tall, far from the camera; named ``<name>-x<factor>``."""
    walkers = tuple(replace(w, height=w.height * factor) for w in clip.walkers)
    return replace(clip, name=f"{clip.name}-x{factor:g}", walkers=walkers)


def load_cutouts(dev_dir: Path) -> list[Cutout]:
    """The :data:`PEOPLE` of the COCO dev set, cut out by their segmentation polygons."""
    doc = json.loads((dev_dir / "person_keypoints.json").read_text())
    files = {im["id"]: im["file_name"] for im in doc["images"]}
    by_id = {a["id"]: a for a in doc["annotations"]}
    out = []
    for ann_id in PEOPLE:
        ann = by_id[ann_id]
        photo = cv2.imread(str(dev_dir / "images" / files[ann["image_id"]]))
        mask = np.zeros(photo.shape[:2], np.uint8)
        for poly in ann["segmentation"]:
            cv2.fillPoly(mask, [np.asarray(poly).reshape(-1, 2).round().astype(np.int32)], 255)
        x, y, w, h = (int(round(v)) for v in ann["bbox"])
        x0, y0 = max(x - 2, 0), max(y - 2, 0)
        x1, y1 = min(x + w + 2, photo.shape[1]), min(y + h + 2, photo.shape[0])
        alpha = cv2.GaussianBlur(mask, (3, 3), 0)[y0:y1, x0:x1].astype(np.float32) / 255.0
        coco = np.asarray(ann["keypoints"], np.float32).reshape(17, 3)
        kps = COCO_18.from_coco17(coco)
        kps[:, :2] -= (x0, y0)
        kps[:, 2] = kps[:, 2] > 0
        out.append(Cutout(photo[y0:y1, x0:x1].copy(), alpha, kps))
    return out


def backdrop(dev_dir: Path) -> np.ndarray:
    """A smooth colour field from a photo shrunk to 16 x 9 pixels (no person survives that), with a little noise."""
    photo = cv2.imread(str(dev_dir / "images" / "000000000802.jpg"))
    field = cv2.resize(cv2.resize(photo, (16, 9), interpolation=cv2.INTER_AREA), SIZE, interpolation=cv2.INTER_CUBIC)
    noise = np.random.default_rng(0).normal(0.0, 6.0, field.shape)
    return np.clip(field + noise, 0, 255).astype(np.uint8)


def _scaled(cut: Cutout, height: float) -> Cutout:
    s = height / cut.image.shape[0]
    size = (max(1, int(round(cut.image.shape[1] * s))), max(1, int(round(height))))
    kps = cut.keypoints.copy()
    kps[:, :2] *= s
    return Cutout(cv2.resize(cut.image, size, interpolation=cv2.INTER_LINEAR),
                  cv2.resize(cut.alpha, size, interpolation=cv2.INTER_LINEAR), kps)


def _body_centre(cut: Cutout) -> float:
    """x (in the cutout) of the middle of its opaque pixels."""
    cols = cut.alpha.sum(axis=0)
    return float((cols * np.arange(len(cols))).sum() / max(cols.sum(), 1e-6))


def _placement(clip: Clip, walker: Walker, cut: Cutout, f: int) -> tuple[int, int]:
    """(left, top) pixel of a walker's scaled cutout in frame ``f``."""
    centre = _body_centre(cut) if clip.body_centred else cut.image.shape[1] / 2
    return int(round(walker.x(f) - centre)), int(round(walker.foot - cut.image.shape[0]))


def ghost_poses(clip: Clip, cutouts: list[Cutout]) -> dict[int, list[np.ndarray]]:
    """{frame: the (18, 3) keypoints (x, y, labelled) of each ghost drawn in it}: the people a detector finds there
    that are no one (they are not in the ground truth)."""
    out: dict[int, list[np.ndarray]] = {}
    for walker in clip.walkers:
        if not walker.ghost:
            continue
        cut = _scaled(cutouts[walker.person], walker.height)
        for f in range(walker.first, walker.last + 1):
            kps = cut.keypoints.copy()
            kps[:, :2] += _placement(clip, walker, cut, f)
            out.setdefault(f, []).append(kps)
    return out


def render_clip(clip: Clip, cutouts: list[Cutout], back: np.ndarray) -> tuple[list[np.ndarray], list[FrameTruth]]:
    """The clip's frames (BGR, :data:`SIZE`) and per-frame ground truth (ids = index of the walker in the clip)."""
    width, height = SIZE
    scaled = [_scaled(cutouts[w.person], w.height) for w in clip.walkers]
    frames, truths = [], []
    for f in range(clip.frames):
        canvas = back.astype(np.float32)
        cover = np.zeros((len(clip.walkers), height, width), bool)  # where each walker is opaque
        placed = []
        for i, (walker, cut) in enumerate(zip(clip.walkers, scaled)):
            if not walker.first <= f <= walker.last:
                continue
            h, w = cut.image.shape[:2]
            left, top = _placement(clip, walker, cut, f)
            xa, ya, xb, yb = max(left, 0), max(top, 0), min(left + w, width), min(top + h, height)
            if xa < xb and ya < yb:
                a = cut.alpha[ya - top:yb - top, xa - left:xb - left, None]
                region = canvas[ya:yb, xa:xb]
                region[...] = region * (1 - a) + cut.image[ya - top:yb - top, xa - left:xb - left] * a
                cover[i, ya:yb, xa:xb] = a[..., 0] > 0.5
            kps = cut.keypoints.copy()
            kps[:, :2] += (left, top)
            if not walker.ghost:
                placed.append((i, kps))
        ids, xy, visible, counted, whole = [], [], [], [], []
        for i, kps in placed:
            inside = (kps[:, 0] >= 0) & (kps[:, 0] < width) & (kps[:, 1] >= 0) & (kps[:, 1] < height)
            vis = (kps[:, 2] > 0) & inside
            px = np.clip(kps[:, 0].astype(int), 0, width - 1)
            py = np.clip(kps[:, 1].astype(int), 0, height - 1)
            hidden = cover[i + 1:, py, px].any(axis=0) if i + 1 < len(cover) else np.zeros(len(kps), bool)
            vis &= ~hidden
            if not vis.any():
                continue
            ids.append(i)
            xy.append(kps[:, :2])
            visible.append(vis)
            counted.append(vis.sum() >= MIN_VISIBLE)
            whole.append(keypoint_box_area(kps[None, :, :2], kps[None, :, 2] > 0)[0])
        k = COCO_18.num_keypoints
        truths.append(FrameTruth(np.asarray(ids, np.int64), np.asarray(xy, np.float64).reshape(-1, k, 2),
                                 np.asarray(visible, bool).reshape(-1, k), np.asarray(counted, bool),
                                 np.asarray(whole, np.float64)))
        frames.append(np.clip(canvas, 0, 255).astype(np.uint8))
    return frames, truths
