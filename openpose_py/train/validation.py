"""Held-out validation during training: a deterministic split of the training images when no validation set is
given, and the bookkeeping of the best AP (which checkpoint to keep, when to stop early)."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic import write_bytes_atomic
from ..errors import DatasetError, TrainConfigError
from ..data.coco import read_annotations, scored_person
from ..data.coco_checks import check_annotations
from .config import TrainConfig

__all__ = ["split_by_image_id", "split_training_set", "write_split", "BestTracker", "VAL_SPLIT_NAME"]

log = logging.getLogger(__name__)

#: The held-out annotations a run writes into its output folder when it splits its training set.
VAL_SPLIT_NAME = "val_split.json"


def split_by_image_id(image_ids: list[int], fraction: float) -> tuple[list[int], list[int]]:
    """(training ids, held-out ids): the ids sorted, the ``n``-th, ``2n``-th ... held out where
    ``n = round(1 / fraction)`` (``fraction`` 0.5: the odd positions 1, 3, 5 ...). Deterministic, no random draw."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    n = max(2, round(1.0 / fraction))
    ordered = sorted({int(i) for i in image_ids})
    held = ordered[n - 1::n]
    kept = set(held)
    return [i for i in ordered if i not in kept], held


def split_training_set(config: TrainConfig) -> tuple[list[int] | None, list[int]]:
    """(training image ids, or None for all; held-out ids) of a run: a split (:func:`split_by_image_id` of the
    images with an annotated person) only without a given validation set and with a ``val_fraction``."""
    if config.val_images is not None or config.val_fraction <= 0:
        return None, []
    data, _ = read_annotations(config.annotations)
    ids = [int(im["id"]) for im in data["images"]]
    # only images with a person COCO evaluation scores can measure AP (on the others it is undefined)
    scored = {int(a["image_id"]) for a in data["annotations"] if scored_person(a)}
    _, held_out = split_by_image_id([i for i in ids if i in scored], config.val_fraction)
    if not held_out:
        log.warning("%d images with annotated people are too few to hold out a fraction %g for validation: "
                    "training on all, validating on none", len(scored), config.val_fraction)
        return None, []
    try:  # scored by COCO evaluation: checked for what it reads now, not at the first validation
        check_annotations(data, config.annotations, evaluation=True)  # the file read above, not read again
    except DatasetError as exc:
        raise TrainConfigError(f"{exc} (to validate on a held-out part of the training set; give --val-fraction 0 "
                               "to train without validation, or --val-images and --val-annotations)") from exc
    log.info("validating on %d of the %d training images with annotated people (every n-th by id), listed in "
             "%s", len(held_out), len(scored), config.output_dir / VAL_SPLIT_NAME)
    kept = set(held_out)
    return [i for i in ids if i not in kept], held_out


def write_split(annotations: Path, held_out: list[int], path: Path) -> None:
    """Write the COCO annotation file restricted to the ``held_out`` images to ``path`` (atomically)."""
    data, _ = read_annotations(annotations)
    keep = set(held_out)
    subset = {**data, "images": [im for im in data["images"] if int(im["id"]) in keep],
              "annotations": [a for a in data["annotations"] if int(a["image_id"]) in keep]}
    write_bytes_atomic(path, json.dumps(subset).encode())


@dataclass
class BestTracker:
    """The best validation AP so far, its step, and how many validations have passed without beating it."""

    patience: int = 0
    best_ap: float = -math.inf
    best_step: int = -1
    stale: int = 0

    def update(self, step: int, ap: float) -> bool:
        """Record one validation; True when it is the best so far (its weights should be kept)."""
        if ap > self.best_ap:
            self.best_ap, self.best_step, self.stale = ap, step, 0
            return True
        self.stale += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience > 0 and self.stale >= self.patience

    def state(self) -> dict[str, Any]:
        return {"best_ap": self.best_ap, "best_step": self.best_step, "stale": self.stale}

    def restore(self, state: dict[str, Any]) -> None:
        self.best_ap = float(state["best_ap"])
        self.best_step = int(state["best_step"])
        self.stale = int(state["stale"])
