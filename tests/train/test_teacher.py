"""A teacher's OpenPose JSON as annotations: each layout read into COCO-17, unconfident points and small people
masked through the training masks, files matched to frames by stem or index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from openpose_py.data.coco import CocoKeypoints
from openpose_py.data.transforms import AugmentConfig
from openpose_py.errors import DatasetError
from openpose_py.results import openpose_json, people_from_array, write_openpose_json
from openpose_py.skeleton import BODY_25, COCO_17_NAMES, COCO_18
from openpose_py.train.masks import unlabelled_part_masks
from openpose_py.train.teacher import (TeacherConfig, match_teacher, read_teacher_json, teacher_annotations,
                                       teacher_files)


def _person(skeleton, confidence: float = 0.9) -> np.ndarray:
    """(K, 3): keypoint i at (10 + i, 100 + 2 i), all with ``confidence``."""
    k = skeleton.num_keypoints
    return np.stack([10.0 + np.arange(k), 100.0 + 2 * np.arange(k), np.full(k, confidence)], axis=1)


def _write(path: Path, people: list[np.ndarray]) -> Path:
    doc = {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": p.ravel().tolist()} for p in people]}
    path.write_text(json.dumps(doc))
    return path


def test_body25_maps_by_name_and_drops_neck_midhip_and_feet(tmp_path: Path) -> None:
    people = read_teacher_json(_write(tmp_path / "a_keypoints.json", [_person(BODY_25)]))
    assert people.shape == (1, 17, 3)
    for slot, name in enumerate(COCO_17_NAMES):
        openpose_name = COCO_18.keypoints[COCO_18.coco17[slot]]  # "left_hip" -> "LHip"
        assert people[0, slot, 0] == 10 + BODY_25.index(openpose_name), name
    xs = set(people[0, :, 0].tolist())
    dropped = [BODY_25.index(n) for n in ("Neck", "MidHip", "LBigToe", "LSmallToe", "LHeel", "RBigToe",
                                           "RSmallToe", "RHeel")]
    assert not xs & {10.0 + i for i in dropped}


def test_our_own_coco18_output_reads_back_as_its_coco17(tmp_path: Path) -> None:
    array = _person(COCO_18)[None].copy()
    array[0, COCO_18.index("LKnee"), 2] = 0.0  # missing: 0, 0, 0 in the file and in what is read
    people = people_from_array(array, COCO_18)
    write_openpose_json(tmp_path / "ours.json", openpose_json(people))
    read = read_teacher_json(tmp_path / "ours.json")
    expected = people[0].to_coco17()
    present = expected[:, 2] > 0
    np.testing.assert_allclose(read[0, present, :2], expected[present, :2], rtol=1e-5)
    assert (read[0, ~present] == 0).all() and (read[0, present, 2] == pytest.approx(0.9))


def test_the_official_badminton_json_reads(shared_dir: Path) -> None:
    folder = shared_dir / "data" / "openpose-official-json" / "badminton_first500" / "json"
    people = read_teacher_json(folder / "video_000000000000_keypoints.json")
    assert people.shape == (9, 17, 3) and (people[..., 2] > 0).sum() > 9 * 8


def test_an_unknown_layout_or_a_broken_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="person 0 has 30 .*75 \\(BODY_25\\), 54 \\(COCO_18\\)"):
        read_teacher_json(_write(tmp_path / "mpi.json", [np.zeros((10, 3))]))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(DatasetError, match="cannot read teacher JSON"):
        read_teacher_json(tmp_path / "bad.json")


def test_unconfident_points_and_small_people_are_masked_not_taught(tmp_path: Path) -> None:
    """An unconfident keypoint is unlabelled (its channel masked around the person by the training masks), a small
    person is a region the loss leaves out; the confident rest teaches, scaled into the frame."""
    big = np.zeros((17, 3), np.float32)
    big[:, 0] = np.linspace(40, 80, 17)
    big[:, 1] = np.linspace(20, 100, 17)
    big[:, 2] = 0.9
    big[COCO_17_NAMES.index("left_wrist"), 2] = 0.1  # under min_confidence
    small = big.copy()
    small[:, :2] = small[:, :2] / 8 + [100, 10]  # 10 pixels tall
    config = TeacherConfig(min_confidence=0.2, min_height=20, ignore=("right_hip",))
    anns = teacher_annotations(np.stack([big, small]) * [2, 2, 1], image_id=7, first_id=1, config=config, scale=0.5)
    taught, masked = anns
    kps = np.asarray(taught["keypoints"]).reshape(17, 3)
    assert taught["num_keypoints"] == 15 and kps[COCO_17_NAMES.index("left_wrist"), 2] == 0
    assert kps[COCO_17_NAMES.index("right_hip"), 2] == 0
    np.testing.assert_allclose(kps[0, :2], big[0, :2], atol=0.01)  # scaled back from the doubled coordinates
    assert masked["num_keypoints"] == 0 and masked["segmentation"]

    # through the dataset and the masks training uses
    import cv2

    (tmp_path / "img").mkdir()
    cv2.imwrite(str(tmp_path / "img" / "f.jpg"), np.full((128, 160, 3), 90, np.uint8))
    category = {"id": 1, "name": "person", "keypoints": list(COCO_17_NAMES)}
    (tmp_path / "a.json").write_text(json.dumps({"images": [{"id": 7, "file_name": "f.jpg", "width": 160,
                                                             "height": 128}], "annotations": anns,
                                                 "categories": [category]}))
    data = CocoKeypoints(tmp_path / "img", tmp_path / "a.json", COCO_18, AugmentConfig.identity(128))
    mask = data.loss_mask(0)
    assert mask[17, 107] == 0 and mask[60, 60] == 1  # inside the small person's box, and on the big one
    kp = data.source(0).keypoints
    heat, _ = unlabelled_part_masks(torch.from_numpy(kp[None]), COCO_18, (16, 20))
    wrist = COCO_18.index("LWrist")
    assert heat[0, wrist].min() == 0 and heat[0, COCO_18.index("Nose")].min() == 1


def test_files_match_frames_by_stem_or_by_index(tmp_path: Path) -> None:
    for name in ("clip_000000000003_keypoints.json", "photo.json", "x_5_keypoints.json", "y_5_keypoints.json"):
        _write(tmp_path / name, [])
    files = teacher_files(tmp_path)
    assert set(files) == {"clip_000000000003", "photo", "x_5", "y_5"}
    found = match_teacher([(3, "other_name"), (0, "photo"), (5, "z"), (9, "nothing")], files)
    # frame 3 by its index, 'photo' by its stem; index 5 is ambiguous (two files end in it): no match
    assert found == {3: files["clip_000000000003"], 0: files["photo"]}
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no JSON files"):
        teacher_files(tmp_path / "empty")
