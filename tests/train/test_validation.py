"""Held-out validation: the deterministic split, best-AP bookkeeping and early stopping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openpose_py.train.validation import BestTracker, split_by_image_id, write_split


def test_split_is_deterministic_and_disjoint() -> None:
    ids = [24, 3, 7, 100, 55, 12, 9, 1]
    train, held = split_by_image_id(ids, 0.5)
    assert held == [3, 9, 24, 100] and train == [1, 7, 12, 55]
    assert split_by_image_id(list(reversed(ids)), 0.5) == (train, held)
    train, held = split_by_image_id(list(range(20)), 0.2)
    assert held == [4, 9, 14, 19] and len(train) == 16
    assert split_by_image_id([5, 6, 7], 0.2) == ([5, 6, 7], [])  # too few to hold any out
    with pytest.raises(ValueError):
        split_by_image_id(ids, 1.0)


def test_write_split_keeps_only_the_held_out_images(dev_set: tuple[Path, Path], tmp_path: Path) -> None:
    _, annotations = dev_set
    ids = [im["id"] for im in json.loads(annotations.read_text())["images"]]
    _, held = split_by_image_id(ids, 0.5)
    write_split(annotations, held, tmp_path / "val.json")
    subset = json.loads((tmp_path / "val.json").read_text())
    assert sorted(im["id"] for im in subset["images"]) == held
    assert subset["annotations"] and {a["image_id"] for a in subset["annotations"]} <= set(held)


def test_best_tracker_and_patience() -> None:
    tracker = BestTracker(patience=2)
    assert tracker.update(10, 0.40) and not tracker.should_stop
    assert tracker.update(20, 0.45)
    assert not tracker.update(30, 0.45) and not tracker.should_stop  # equal is not better
    assert not tracker.update(40, 0.41) and tracker.should_stop
    assert (tracker.best_ap, tracker.best_step) == (0.45, 20)
    copy = BestTracker(patience=2)
    copy.restore(tracker.state())
    assert copy.state() == tracker.state() and copy.should_stop
    never = BestTracker()  # patience 0: never stops
    for step in range(5):
        never.update(step, 0.1)
    assert not never.should_stop
