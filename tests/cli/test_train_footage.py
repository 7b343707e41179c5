"""``train --recipe adapt``: a video and a teacher's JSON per frame through the command, to the usual run files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from openpose_py.images import write_image
from openpose_py.train.anchors import ANCHOR_ID_BASE
from tests.train.test_adapt import write_teacher
from tests.train.test_footage import write_video


def test_adapt_trains_on_a_video_with_a_teacher_and_validates_on_its_last_frames(invoke, tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.avi", 10, size=(128, 96))
    teacher = write_teacher(tmp_path / "json", range(10))
    photos = tmp_path / "photos"
    photos.mkdir()
    write_image(photos / "a.jpg", np.full((40, 50, 3), 90, dtype=np.uint8))
    out = tmp_path / "run"
    result = invoke("train", "--recipe", "adapt", "--teacher-json", teacher, "--images", video, "--output-dir", out,
                    "--teacher-min-height", 8, "--steps", 1, "--batch-size", 1, "--crop-size", 64, "--workers", 0,
                    "--threads", 2, "--no-progress", "--config", _small(tmp_path), "--anchor-images", photos)
    assert result.exit_code == 0, result.output
    assert (out / "weights.safetensors").is_file() and (out / "weights.best.safetensors").is_file()
    saved = json.loads((out / "config.json").read_text())
    assert saved["mask_unlabelled"] and saved["val_annotations"] == str(out / "footage" / "val.json")
    # the crops show the footage's people as tall as a 368-pixel input shows them: 22.5 of the frame's 96 rows
    assert saved["augment"]["target_dist"] == pytest.approx(22.5 / 96 * 368 / 64 / 0.8, abs=1e-3)
    assert saved["data"]["negatives"]  # the anchor tiles, without people
    held = {im["id"] for im in json.loads((out / "footage" / "val.json").read_text())["images"]}
    trained = {im["id"] for im in json.loads((out / "footage" / "train.json").read_text())["images"]}
    assert held == {8, 9} and {i for i in trained if i < ANCHOR_ID_BASE} == set(range(8))
    assert len(trained) > 8
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "val/AP" in r] == [0, 1]


def _small(tmp_path: Path) -> Path:
    """The synthetic people are small: let them be main people."""
    path = tmp_path / "small.toml"
    path.write_text("[data]\nmin_area = 0\n")
    return path


def test_adapt_needs_one_teacher(invoke, tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.avi", 3)
    result = invoke("train", "--recipe", "adapt", "--images", video, "--output-dir", tmp_path / "run")
    assert result.exit_code == 2 and "--teacher-json DIR or --teacher self" in result.output
    assert not (tmp_path / "run").exists()
