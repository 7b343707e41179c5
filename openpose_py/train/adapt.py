"""``train --recipe adapt``: a video or image folder and a teacher's output on it become a training run's data.

:func:`prepare_footage` caches the frames (:mod:`.footage`), finds the teacher's OpenPose JSON of each frame (a
folder of files, matched by stem or frame index; or the self-teacher, our own multi-scale + flip output, run once and
cached), turns it into COCO keypoint annotations (:mod:`.teacher`) and writes two annotation files into the cache:
``train.json`` (the first frames) and ``val.json`` (the last ``val_fraction`` of the frames by index, never in
``train.json``). A run then trains on the first and validates on the second as on any COCO set: agreement with the
teacher, as COCO keypoint AP (OKS) with the teacher's confident keypoints as the truth.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..checks import check_all
from ..atomic import write_bytes_atomic
from ..errors import DatasetError, TrainConfigError
from ..skeleton import COCO_17_NAMES, COCO_18
from .anchors import anchor_coco
from .footage import FootageFrame, cache_frames, self_teacher_json
from .teacher import TeacherConfig, match_teacher, read_teacher_json, teacher_annotations, teacher_files

__all__ = ["AdaptConfig", "AdaptData", "prepare_footage", "split_frames", "fitted_target_dist", "TRAIN_NAME",
           "VAL_NAME"]

log = logging.getLogger(__name__)

TRAIN_NAME = "train.json"
VAL_NAME = "val.json"


@dataclass(frozen=True)
class AdaptConfig:
    """Where the footage and its teacher come from.

    Attributes:
        footage: a video file (sampled every ``frame_step``-th frame by index) or a folder of images.
        cache: folder for the decoded frames, the self-teacher's JSON and the annotation files (reused by later runs
            on the same footage).
        teacher_json: folder of the teacher's OpenPose JSON, one file per frame; None: the self-teacher.
        teacher_model, teacher_height, teacher_scales, teacher_flip: the self-teacher (a registered network run at
            these scales of this input height, with the mirrored image too).
        frame_step, max_side: every n-th video frame; the cached frames' longer side at most this many pixels.
        val_fraction: the last fraction of the frames (by index) held out for validation, never trained on (0:
            none).
        teacher: which keypoints and people teach (:class:`.teacher.TeacherConfig`).
        anchors: a folder of photos of other scenes (not the ones you evaluate on) that only hold the network to its
            start (:mod:`.anchors`), cut into tiles of ``anchor_side`` pixels that make up about ``anchor_share`` of
            the training samples; None: none.
    """

    footage: Path
    cache: Path
    teacher_json: Path | None = None
    teacher_model: str = "lightweight"
    teacher_height: int = 368
    teacher_scales: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0)
    teacher_flip: bool = True
    frame_step: int = 1
    max_side: int = 960
    val_fraction: float = 0.2
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    anchors: Path | None = None
    anchor_share: float = 0.25
    anchor_side: int = 320

    def __post_init__(self) -> None:
        check_all((
            (math.isfinite(self.val_fraction) and 0.0 <= self.val_fraction < 1.0,
             f"val_fraction must lie in [0, 1), got {self.val_fraction}"),
            (self.frame_step >= 1 and self.max_side >= 16 and self.teacher_height >= 16,
             "frame step must be >= 1, the frames' longer side and the teacher's height >= 16"),
            (bool(self.teacher_scales) and all(0 < s < math.inf for s in self.teacher_scales),
             f"teacher scales must be positive numbers, got {self.teacher_scales}"),
            (0.0 < self.anchor_share < 1.0 and self.anchor_side >= 16,
             f"anchor share must lie in (0, 1) and the anchor side be >= 16, got {self.anchor_share} and "
             f"{self.anchor_side}"),
        ), error=TrainConfigError)

    @property
    def teacher_tag(self) -> str:
        """Names the self-teacher's cache folder: what changes its output changes the name."""
        scales = "_".join(f"{s:g}" for s in self.teacher_scales)
        return f"{self.teacher_model}-h{self.teacher_height}-s{scales}{'-flip' if self.teacher_flip else ''}"


@dataclass(frozen=True)
class AdaptData:
    """What :func:`prepare_footage` made: the frames' folder, the two annotation files (``val`` None without a
    held-out part), counts (frames of each part, people taught and people masked, anchor images), and the median
    height of the taught people in the training frames as a fraction of their frame's height (None without any)."""

    images: Path
    train: Path
    val: Path | None
    counts: dict[str, int]
    person_fraction: float | None = None


def fitted_target_dist(person_fraction: float, input_height: int, crop_size: int,
                       scale_range: tuple[float, float]) -> float:
    """The augmentation's ``target_dist`` (the main person's height over the crop side at scale multiplier 1) that
    shows the footage's median person, at the middle of ``scale_range``, as tall as the network sees it when it runs
    on a whole frame at ``input_height``: ``person_fraction * input_height / crop_size / middle``. Footage people
    are often far smaller than COCO's reference (0.6 of the crop), and a network taught them large learns little
    about them at their own size (docs/finetuning.md measures it)."""
    return person_fraction * input_height / crop_size / ((scale_range[0] + scale_range[1]) / 2.0)


def _person_fraction(data: dict[str, Any]) -> float | None:
    heights = {im["id"]: im["height"] for im in data["images"]}
    fractions = [a["bbox"][3] / heights[a["image_id"]] for a in data["annotations"] if a["num_keypoints"] > 0]
    return float(statistics.median(fractions)) if fractions else None


def split_frames(frames: Sequence[FootageFrame], fraction: float) -> tuple[list[FootageFrame], list[FootageFrame]]:
    """(training frames, held-out frames): the last ``ceil(fraction * n)`` frames by index are held out."""
    ordered = sorted(frames, key=lambda f: f.index)
    held = math.ceil(fraction * len(ordered)) if fraction > 0 else 0
    if held >= len(ordered):
        raise DatasetError(f"{len(ordered)} frames are too few to hold out a fraction {fraction:g} and train on "
                           "the rest")
    return ordered[:len(ordered) - held], ordered[len(ordered) - held:]


def _coco(frames: Sequence[FootageFrame], teacher: dict[int, Path], config: AdaptConfig, scaled: bool,
          skip_empty: bool) -> dict[str, Any]:
    """COCO keypoint data of the frames; with ``skip_empty``, frames where the teacher saw nobody are left out (drawn
    as negatives beside anchors, they would teach background where the teacher may just have missed people)."""
    images, annotations = [], []
    for frame in frames:
        people = read_teacher_json(teacher[frame.index])
        found = teacher_annotations(people, frame.index, len(annotations) + 1, config.teacher,
                                    frame.scale if scaled else 1.0)
        if found or not skip_empty:
            images.append({"id": frame.index, "file_name": frame.file_name, "width": frame.width,
                           "height": frame.height})
            annotations += found
    category = {"id": 1, "name": "person", "supercategory": "person", "keypoints": list(COCO_17_NAMES),
                "skeleton": [[COCO_18.coco17.index(a) + 1, COCO_18.coco17.index(b) + 1] for a, b in
                             zip(COCO_18.limb_a, COCO_18.limb_b) if a in COCO_18.coco17 and b in COCO_18.coco17]}
    return {"images": images, "annotations": annotations, "categories": [category]}


def _add_anchors(data: dict[str, Any], config: AdaptConfig, counts: dict[str, int]) -> None:
    """Append the anchor tiles (:mod:`.anchors`) to the training data, sized against its main people (those with at
    least 5 taught keypoints and an area of 32 x 32 pixels, as the dataset's defaults pick them); count them."""
    if config.anchors is None:
        log.warning("no anchor images: nothing holds the network to its start away from the footage, and it may "
                    "lose accuracy on other pictures (docs/finetuning.md, 'Adapting to footage')")
        return
    samples = sum(1 for a in data["annotations"] if a["num_keypoints"] >= 5 and a["area"] >= 32 * 32)
    images, annotations = anchor_coco(config.anchors, config.cache / "frames", config.anchor_side, max(samples, 1),
                                      config.anchor_share, len(data["annotations"]) + 1)
    data["images"] += images
    data["annotations"] += annotations
    counts["anchor_images"] = len(images)


def _teacher_folder(config: AdaptConfig, frames: list[FootageFrame]) -> Path:
    if config.teacher_json is not None:
        return config.teacher_json
    from ..inference import PoseEstimator

    estimator = PoseEstimator.from_pretrained(config.teacher_model, height=config.teacher_height,
                                              scales=config.teacher_scales, flip=config.teacher_flip,
                                              backend="torch")
    return self_teacher_json(frames, config.cache, config.teacher_tag, estimator)


def prepare_footage(config: AdaptConfig) -> AdaptData:
    """Cache the frames, read (or make) the teacher's output and write ``train.json`` and ``val.json``.

    Raises:
        DatasetError: unreadable footage or teacher files, no frame with a teacher file, too few frames to split.
    """
    frames = cache_frames(config.footage, config.cache, step=config.frame_step, max_side=config.max_side)
    folder = _teacher_folder(config, frames)
    teacher = match_teacher(((f.index, f.stem) for f in frames), teacher_files(folder))
    matched = [f for f in frames if f.index in teacher]
    if not matched:
        raise DatasetError(f"no frame of {config.footage} has a teacher file in {folder} (matched by stem, or by "
                           "the frame index a file name ends in)")
    if len(matched) < len(frames):
        log.warning("%d of %d frames have no teacher file in %s and are left out", len(frames) - len(matched),
                    len(frames), folder)
    train_frames, val_frames = split_frames(matched, config.val_fraction)
    scaled = config.teacher_json is not None  # the self-teacher ran on the cached frames already
    counts = {"train_frames": len(train_frames), "val_frames": len(val_frames)}
    paths: dict[str, Path | None] = {"train": config.cache / TRAIN_NAME, "val": None}
    fraction: float | None = None
    for part, part_frames in (("train", train_frames), ("val", val_frames)):
        if not part_frames:
            continue
        data = _coco(part_frames, teacher, config, scaled, part == "train")
        counts[f"{part}_people"] = sum(1 for a in data["annotations"] if a["num_keypoints"] > 0)
        counts[f"{part}_masked_people"] = sum(1 for a in data["annotations"] if a["num_keypoints"] == 0)
        if part == "train":
            fraction = _person_fraction(data)
            _add_anchors(data, config, counts)
        path = config.cache / (TRAIN_NAME if part == "train" else VAL_NAME)
        write_bytes_atomic(path, json.dumps(data).encode())
        paths[part] = path
    log.info("footage %s: %s", config.footage, counts)
    return AdaptData(config.cache / "frames", paths["train"], paths["val"], counts, fraction)
