"""scripts/rotate_coco.py: a quarter turn moves keypoints, boxes, polygons and crowd masks with the photo."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from .conftest import load_script


@pytest.fixture(scope="module")
def rotate():
    return load_script("rotate_coco")


def _annotation(width: int, height: int) -> dict:
    crowd = np.zeros((height, width), np.uint8, order="F")
    crowd[5:20, 30:50] = 1
    rle = mask_utils.encode(crowd)
    rle["counts"] = rle["counts"].decode()
    keypoints = [0.0] * 51
    keypoints[0:3] = [12.0, 30.0, 2]  # nose, on the centre of pixel (12, 30)
    keypoints[15:18] = [20.0, 40.5, 1]  # left shoulder
    return {"id": 1, "image_id": 1, "keypoints": keypoints, "bbox": [10.0, 25.0, 15.0, 20.0],
            "segmentation": [[10.0, 25.0, 25.0, 25.0, 25.0, 45.0, 10.0, 45.0]], "area": 300.0, "num_keypoints": 2,
            "crowd_rle": rle}


def test_a_turn_moves_everything_with_the_photo_and_four_turns_are_none(rotate, tmp_path) -> None:
    width, height = 64, 48
    ann = _annotation(width, height)
    crowd = {**ann, "segmentation": ann.pop("crowd_rle")}
    turned = rotate.turn_annotation(ann, width, height)
    # clockwise: a keypoint (a pixel centre) goes to x' = height - 1 - y, y' = x, a box or polygon corner to
    # x' = height - y; unlabelled keypoints stay (0, 0, 0)
    assert turned["keypoints"][0:3] == [height - 1 - 30.0, 12.0, 2] and turned["keypoints"][3:6] == [0.0, 0.0, 0]
    assert turned["bbox"] == [height - 25.0 - 20.0, 10.0, 20.0, 15.0]
    poly = np.asarray(turned["segmentation"][0]).reshape(-1, 2)
    x, y, w, h = turned["bbox"]
    assert poly[:, 0].min() == x and poly[:, 0].max() == x + w and poly[:, 1].min() == y and poly[:, 1].max() == y + h
    # the crowd mask turns like the image pixels do
    mask = mask_utils.decode(crowd["segmentation"])
    turned_mask = mask_utils.decode(rotate.turn_annotation(crowd, width, height)["segmentation"])
    assert np.array_equal(turned_mask, cv2.rotate(mask, cv2.ROTATE_90_CLOCKWISE))
    # four quarter turns give the annotation back
    sizes = [(width, height), (height, width)] * 2
    back, back_crowd = ann, crowd
    for w_, h_ in sizes:
        back, back_crowd = rotate.turn_annotation(back, w_, h_), rotate.turn_annotation(back_crowd, w_, h_)
    assert back["keypoints"] == ann["keypoints"] and back["bbox"] == ann["bbox"]
    assert np.allclose(back["segmentation"][0], ann["segmentation"][0])
    assert np.array_equal(mask_utils.decode(back_crowd["segmentation"]), mask)


def test_the_set_on_disk_turns_photos_and_sizes(rotate, tmp_path, monkeypatch) -> None:
    source = tmp_path / "src"
    (source / "images").mkdir(parents=True)
    image = np.zeros((48, 64, 3), np.uint8)
    image[30, 12] = 255  # the nose's pixel, x 12 y 30
    cv2.imwrite(str(source / "images" / "a.png"), image)
    ann = _annotation(64, 48)
    ann.pop("crowd_rle")
    (source / "person_keypoints.json").write_text(json.dumps(
        {"images": [{"id": 1, "file_name": "a.png", "width": 64, "height": 48}], "annotations": [ann],
         "categories": [{"id": 1, "name": "person"}]}))
    monkeypatch.setattr("sys.argv", ["rotate_coco.py", str(source), str(tmp_path / "out")])
    rotate.main()
    data = json.loads((tmp_path / "out" / "person_keypoints.json").read_text())
    assert (data["images"][0]["width"], data["images"][0]["height"]) == (48, 64)
    turned = cv2.imread(str(tmp_path / "out" / "images" / "a.png"))
    assert turned.shape == (64, 48, 3)
    # the nose's pixel and the nose keypoint land on the same place
    x, y = data["annotations"][0]["keypoints"][0:2]
    assert (x, y) == (48 - 1 - 30, 12) and turned[int(y), int(x)].max() == 255
