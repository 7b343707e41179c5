"""A teacher's OpenPose JSON as COCO keypoint annotations: the pseudo-labels of ``train --recipe adapt``.

A teacher is any system that wrote OpenPose 1.3 JSON per frame: the official OpenPose (BODY_25 or COCO-18 layout)
or this package (``openpose-py image/video --json``, or the multi-scale + flip self-teacher of
:mod:`openpose_py.train.footage`). Each person becomes one COCO annotation in COCO-17 order, so that the training
data go through the same path as hand labels (``Skeleton.from_coco17``, :mod:`openpose_py.encode`):

- a keypoint whose teacher confidence is at least ``min_confidence`` is labelled (``v = 2``); below it, or named in
  ``ignore``, it is unlabelled (``v = 0``), which the adapt recipe's ``mask_unlabelled`` leaves out of the loss
  around that person (:mod:`openpose_py.train.masks`) instead of teaching it as background;
- a person shorter than ``min_height`` pixels (the box of all its keypoints) or with fewer than ``min_keypoints``
  confident keypoints is an ignored region: an annotation without keypoints whose box is its segmentation, masked
  out of the loss by the dataset (:meth:`openpose_py.data.coco.CocoKeypoints.loss_mask`) and ignored by COCO
  evaluation (pycocotools ignores keypoint annotations with ``num_keypoints`` 0).

The layouts map onto COCO-17 by keypoint name (``openpose_py.skeleton``): the 17 COCO points carry over one to one;
BODY_25's Neck and MidHip are dropped (the COCO-18 Neck is derived again as the shoulders' midpoint, as for COCO
labels) and so are its six foot points; its hips are taken as they are, although BODY_25 places them differently
from COCO's (docs/finetuning.md, "Adapting to footage", measures the difference and what it costs).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from ..checks import check_all
from ..errors import DatasetError
from ..skeleton import BODY_25, COCO_17_NAMES, COCO_18, Skeleton

__all__ = ["TeacherConfig", "TEACHER_LAYOUTS", "read_teacher_json", "teacher_annotations", "teacher_files",
           "match_teacher"]

#: The OpenPose JSON layouts a teacher may write, by the length of ``pose_keypoints_2d``.
TEACHER_LAYOUTS: dict[int, Skeleton] = {3 * s.num_keypoints: s for s in (BODY_25, COCO_18)}


@dataclass(frozen=True)
class TeacherConfig:
    """Which of a teacher's keypoints and people teach.

    Attributes:
        min_confidence: a keypoint teaches when its confidence is at least this; below, it is masked.
        min_height: a person whose keypoints span fewer pixels than this from top to bottom (in the training frames'
            pixels) is masked as a region, not taught.
        min_keypoints: likewise a person with fewer confident keypoints (of the 17 COCO ones).
        ignore: COCO-17 keypoint names never taught (masked on every person), e.g. the hips of a teacher that
            places them differently.
    """

    min_confidence: float = 0.2
    min_height: float = 32.0
    min_keypoints: int = 4
    ignore: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.ignore) - set(COCO_17_NAMES))
        check_all((
            (math.isfinite(self.min_confidence) and 0.0 <= self.min_confidence <= 1.0,
             f"teacher min_confidence must lie in [0, 1], got {self.min_confidence}"),
            (math.isfinite(self.min_height) and self.min_height >= 0.0,
             f"teacher min_height must be a finite number >= 0, got {self.min_height}"),
            (1 <= self.min_keypoints <= len(COCO_17_NAMES),
             f"teacher min_keypoints must lie in [1, {len(COCO_17_NAMES)}], got {self.min_keypoints}"),
            (not unknown, f"teacher ignore names unknown COCO keypoints: {', '.join(unknown)}"),
        ))


def read_teacher_json(path: str | Path) -> np.ndarray:
    """(P, 17, 3) float32 x, y, confidence in COCO-17 order from one OpenPose JSON file of either layout
    (:data:`TEACHER_LAYOUTS`); a missing point is 0, 0, 0.

    Raises:
        DatasetError: unreadable, not an OpenPose keypoints file, or a person of an unknown layout.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(f"cannot read teacher JSON {path}: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("people"), list):
        raise DatasetError(f"{path} is not an OpenPose keypoints file (no 'people' list)")
    out = np.zeros((len(doc["people"]), len(COCO_17_NAMES), 3), dtype=np.float32)
    for p, entry in enumerate(doc["people"]):
        flat = entry.get("pose_keypoints_2d") if isinstance(entry, dict) else None
        skeleton = TEACHER_LAYOUTS.get(len(flat)) if isinstance(flat, list) else None
        if skeleton is None:
            layouts = ", ".join(f"{n} ({s.name})" for n, s in TEACHER_LAYOUTS.items())
            raise DatasetError(f"{path}: person {p} has {len(flat) if isinstance(flat, list) else 'no'} "
                               f"pose_keypoints_2d numbers; a teacher writes {layouts}")
        try:
            rows = np.asarray(flat, dtype=np.float32).reshape(-1, 3)
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"{path}: person {p} has keypoints that are not numbers") from exc
        rows[~np.isfinite(rows).all(axis=1)] = 0.0
        out[p] = rows[list(skeleton.coco17)]
    return out


def teacher_annotations(people: np.ndarray, image_id: int, first_id: int, config: TeacherConfig,
                        scale: float = 1.0) -> list[dict[str, Any]]:
    """COCO person annotations (ids from ``first_id``) of one frame's teacher people ((P, 17, 3) as
    :func:`read_teacher_json` gives them, in source pixels; ``scale`` maps them onto the training frame).

    A person with no keypoint at all is left out; one too small or with too few confident keypoints becomes an
    ignored region (see the module's description).
    """
    people = np.asarray(people, dtype=np.float32).reshape(-1, len(COCO_17_NAMES), 3)
    present = people[..., 2] > 0
    taught = (people[..., 2] >= config.min_confidence) & present
    taught[:, [COCO_17_NAMES.index(n) for n in config.ignore]] = False
    out: list[dict[str, Any]] = []
    for p in np.flatnonzero(present.any(axis=1)):
        xy = people[p, :, :2] * scale
        x0, y0 = xy[present[p]].min(axis=0)
        x1, y1 = xy[present[p]].max(axis=0)
        w, h = float(x1 - x0), float(y1 - y0)
        ann: dict[str, Any] = {"id": first_id + len(out), "image_id": int(image_id), "category_id": 1,
                               "iscrowd": 0, "bbox": [float(x0), float(y0), w, h], "area": max(w * h, 1.0)}
        num = int(taught[p].sum())
        if h < config.min_height or num < config.min_keypoints:
            # masked, not taught: the box (widened by a tenth of its size) is the region the loss leaves out
            pad = 0.1 * max(w, h, 1.0)
            bx0, by0, bx1, by1 = float(x0) - pad, float(y0) - pad, float(x1) + pad, float(y1) + pad
            ann.update(num_keypoints=0, keypoints=[0] * (3 * len(COCO_17_NAMES)),
                       segmentation=[[bx0, by0, bx1, by0, bx1, by1, bx0, by1]])
        else:
            kps = np.zeros((len(COCO_17_NAMES), 3), dtype=np.float64)
            kps[taught[p], :2] = xy[taught[p]]
            kps[taught[p], 2] = 2.0
            ann.update(num_keypoints=num, keypoints=[round(float(v), 2) for v in kps.ravel()])
        out.append(ann)
    return out


_INDEX = re.compile(r"(\d+)$")


def teacher_files(directory: str | Path) -> dict[str, Path]:
    """A teacher's JSON files by stem (``name_keypoints.json`` and ``name.json`` both give ``name``)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError(f"no such teacher JSON folder: {directory}")
    files = {p.stem.removesuffix("_keypoints"): p for p in sorted(directory.glob("*.json"))}
    if not files:
        raise DatasetError(f"no JSON files in the teacher folder {directory}")
    return files


def match_teacher(frames: Iterable[tuple[int, str]], files: Mapping[str, Path]) -> dict[int, Path]:
    """The teacher file of each frame ``(index, stem)``: the file of the same stem, else the one whose stem ends in
    the frame's index (``video_000000000012_keypoints.json`` for frame 12; an index that several files end in
    matches none). Frames without a file are left out."""
    by_index: dict[int, Path | None] = {}
    for stem, path in files.items():
        found = _INDEX.search(stem)
        if found:
            index = int(found.group(1))
            by_index[index] = None if index in by_index else path
    out: dict[int, Path] = {}
    for index, stem in frames:
        path = files.get(stem) or by_index.get(index)
        if path is not None:
            out[index] = path
    return out
