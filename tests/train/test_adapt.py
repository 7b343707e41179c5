"""Footage and a teacher's JSON become a training set and a held-out set of the last frames, never trained on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from openpose_py.data.coco import CocoKeypoints, DatasetConfig
from openpose_py.errors import DatasetError
from openpose_py.skeleton import BODY_25
from openpose_py.train.adapt import AdaptConfig, prepare_footage, split_frames
from openpose_py.train.footage import FootageFrame
from openpose_py.train.teacher import TeacherConfig

from .test_footage import write_video


def write_teacher(folder: Path, indices: range, stem: str = "clip") -> Path:
    """BODY_25 JSON per frame index: one person 30 pixels tall (in the 64 x 48 source), all points confident."""
    folder.mkdir(parents=True, exist_ok=True)
    person = np.zeros((BODY_25.num_keypoints, 3))
    person[:, 0] = np.linspace(20, 40, BODY_25.num_keypoints)
    person[:, 1] = np.linspace(8, 38, BODY_25.num_keypoints)
    person[:, 2] = 0.8
    for i in indices:
        doc = {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": person.ravel().tolist()}]}
        (folder / f"{stem}_{i:012d}_keypoints.json").write_text(json.dumps(doc))
    return folder


def test_split_holds_out_the_last_frames() -> None:
    frames = [FootageFrame(i, str(i), f"{i}.jpg", 8, 8, 1.0) for i in (9, 0, 3, 6, 12, 15, 18, 21, 24, 27)]
    train, held = split_frames(frames, 0.2)
    assert [f.index for f in train] == [0, 3, 6, 9, 12, 15, 18, 21] and [f.index for f in held] == [24, 27]
    assert split_frames(frames, 0.0)[1] == []
    with pytest.raises(DatasetError, match="too few"):
        split_frames(frames[:1], 0.2)


def test_prepared_footage_never_trains_on_the_held_out_frames(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.avi", 12)
    teacher = write_teacher(tmp_path / "json", range(11))  # the last frame has no teacher file: left out
    config = AdaptConfig(footage=video, cache=tmp_path / "cache", teacher_json=teacher, frame_step=1, max_side=32,
                         teacher=TeacherConfig(min_height=8))
    data = prepare_footage(config)
    train = json.loads(data.train.read_text())
    val = json.loads(data.val.read_text())
    train_ids = {im["id"] for im in train["images"]}
    assert train_ids == set(range(8)) and {im["id"] for im in val["images"]} == {8, 9, 10}
    assert {a["image_id"] for a in train["annotations"]} <= train_ids
    assert data.counts == {"train_frames": 8, "val_frames": 3, "train_people": 8, "train_masked_people": 0,
                           "val_people": 3, "val_masked_people": 0}
    # the teacher person spans 22.5 of the 48 source rows (its 17 COCO points; BODY_25 feet left out)
    assert data.person_fraction == pytest.approx(22.5 / 48, abs=1e-3)
    # the teacher's pixels are mapped onto the cached half-size frames
    nose = train["annotations"][0]["keypoints"][:2]
    assert nose == pytest.approx([10.0, 4.0], abs=0.01)
    dataset = CocoKeypoints(data.images, data.train, config=DatasetConfig(min_area=0))
    assert set(dataset.image_ids) <= train_ids


def test_no_matching_teacher_file_is_one_line(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.avi", 3)
    teacher = write_teacher(tmp_path / "json", range(100, 102), stem="other")
    with pytest.raises(DatasetError, match="no frame of .* has a teacher file"):
        prepare_footage(AdaptConfig(footage=video, cache=tmp_path / "cache", teacher_json=teacher))
