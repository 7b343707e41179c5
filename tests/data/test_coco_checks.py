"""The one check of COCO keypoint annotations, shared by training and evaluation: a bad record is one line naming
it, before anything uses the file (found by the hardening sweep: ints as file names, string ids, iscrowd "no",
visibility 9, 0x0 images gave tracebacks or went through silently)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from openpose_py.data import CocoKeypoints, read_annotations
from openpose_py.errors import DatasetError
from openpose_py.skeleton import COCO_17_NAMES

_CATEGORY = {"id": 1, "name": "person", "supercategory": "person", "keypoints": list(COCO_17_NAMES), "skeleton": []}


def _valid() -> dict:
    keypoints = [0] * 51
    keypoints[0:3] = [30, 20, 2]  # nose
    keypoints[15:18] = [40, 35, 1]  # left shoulder, labelled, hidden
    person = {"id": 10, "image_id": 1, "category_id": 1, "iscrowd": 0, "keypoints": keypoints, "num_keypoints": 2,
              "bbox": [10.0, 10.0, 60.0, 80.0], "area": 4800.0, "segmentation": []}
    return {"images": [{"id": 1, "file_name": "a.jpg", "height": 120, "width": 100},
                       {"id": 2, "file_name": "b.jpg", "height": 120, "width": 100}],
            "annotations": [person, {**person, "id": 11, "image_id": 2}],
            "categories": [dict(_CATEGORY)]}


def _image(d: dict) -> dict:
    return d["images"][0]


def _ann(d: dict) -> dict:
    return d["annotations"][0]


_NAME = "annotation 10 (entry 0 of 'annotations')"


@pytest.mark.parametrize("corrupt, message", [
    (lambda d: _image(d).update(file_name=5), "images[0] file_name must be a non-empty string, got 5"),
    (lambda d: _image(d).update(file_name=""), "images[0] file_name must be a non-empty string, got \"\""),
    (lambda d: _image(d).pop("file_name"), "images[0] has no file_name"),
    (lambda d: [_image(d).update(id="1"), _ann(d).update(image_id="1")], "images[0] id must be an integer, got \"1\""),
    (lambda d: _image(d).update(id=True), "images[0] id must be an integer, got true"),
    (lambda d: [_image(d).update(id=1.0), _ann(d).update(image_id=1.0)], "images[0] id must be an integer, got 1.0"),
    (lambda d: _image(d).update(height=-5), "images[0] height must be a positive integer, got -5"),
    (lambda d: _image(d).update(height=0, width=0), "images[0] height must be a positive integer, got 0"),
    (lambda d: _image(d).update(width=99.5), "images[0] width must be a positive integer, got 99.5"),
    (lambda d: d["images"].insert(0, 7), "images[0] must be an object, got 7"),
    (lambda d: d["categories"][0].update(id="1"), "categories[0] id must be an integer, got \"1\""),
    (lambda d: _ann(d).update(id=10.0), "annotation entry 0 id must be an integer, got 10.0"),
    (lambda d: d["annotations"][1].update(id=10),
     "annotation entry 1 reuses id 10; pycocotools tells annotations apart by id"),
    (lambda d: _ann(d).update(image_id="1"), f"{_NAME} image_id must be an integer, got \"1\""),
    (lambda d: _ann(d).update(category_id=True), f"{_NAME} category_id must be an integer, got true"),
    (lambda d: _ann(d).pop("image_id"), f"{_NAME} has no image_id"),
    (lambda d: _ann(d).update(iscrowd="no"), f"{_NAME} iscrowd must be 0 or 1, got \"no\""),
    (lambda d: _ann(d).update(iscrowd=2), f"{_NAME} iscrowd must be 0 or 1, got 2"),
    (lambda d: _ann(d)["keypoints"].__setitem__(2, 9),
     f"{_NAME}: keypoint 0 (nose) has visibility 9, not 0 (unlabelled), 1 (labelled, hidden) or 2 (visible)"),
    (lambda d: _ann(d)["keypoints"].__setitem__(17, 0.5),
     f"{_NAME}: keypoint 5 (left_shoulder) has visibility 0.5, not 0 (unlabelled), 1 (labelled, hidden) or 2 "
     "(visible)"),
    (lambda d: _ann(d).update(num_keypoints=True), f"{_NAME}: num_keypoints is true, not a count"),
    # accepted silently before: each changes which people a run trains on or a score counts
    (lambda d: _ann(d).update(num_keypoints=5), f"{_NAME}: num_keypoints is 5, but 2 keypoints are labelled "
                                                 "(visibility 1 or 2)"),
    (lambda d: _ann(d).update(bbox=[10.0, 10.0, -60.0, 80.0]),
     f"{_NAME}: bbox is [10.0, 10.0, -60.0, 80.0], not [x, y, width, height] with width and height >= 0"),
    (lambda d: d["categories"].append(dict(_CATEGORY)), "category id 1 is listed twice in 'categories'"),
])
def test_a_bad_record_is_one_line_naming_it(tmp_path: Path, corrupt, message: str) -> None:
    data = _valid()
    corrupt(data)
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DatasetError) as caught:
        read_annotations(path)
    assert str(caught.value) == f"{path}: {message}"


@pytest.mark.parametrize("change", [
    lambda d: _ann(d).pop("iscrowd"),  # reads as 0 (COCO always has it; some COCO-format exports leave it out)
    lambda d: _ann(d).update(iscrowd=False),  # posetrack18 as mmpose ships it
    lambda d: _ann(d)["keypoints"].__setitem__(2, 2.0),
    lambda d: [a.pop("id") for a in d["annotations"]],  # training tells annotations apart by nothing
])
def test_what_training_accepts(tmp_path: Path, change) -> None:
    data = _valid()
    change(data)
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(data))
    assert read_annotations(path) == (data, 1)


def test_training_and_evaluation_share_the_checker() -> None:
    from openpose_py.data import coco, coco_checks

    assert coco.read_annotations is coco_checks.read_annotations
    # evaluation adds what pycocotools needs, nothing else
    data = _valid()
    assert coco_checks.check_annotations(data, "x", evaluation=True) == 1
    _ann(data).pop("id")
    assert coco_checks.check_annotations(data, "x") == 1
    with pytest.raises(DatasetError, match=r"^x: annotation entry 0 has no integer id"):
        coco_checks.check_annotations(data, "x", evaluation=True)


def test_a_training_set_with_a_bad_file_name_is_refused_up_front(tmp_path: Path) -> None:
    """Failure 4: 'openpose-py train' with an int file_name gave a TypeError in the dataset."""
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a.jpg", "b.jpg"):
        cv2.imwrite(str(images / name), np.full((120, 100, 3), 90, np.uint8))
    data = _valid()
    data["images"][1]["file_name"] = 5
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DatasetError) as caught:
        CocoKeypoints(images, path)
    assert str(caught.value) == f"{path}: images[1] file_name must be a non-empty string, got 5"
