"""COCO keypoint dataset: sample selection, COCO-17 -> skeleton conversion, loss masks, collation, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from openpose_py.data.coco import CocoKeypoints, DatasetConfig, collate, read_annotations
from openpose_py.data.transforms import AugmentConfig
from openpose_py.codec.encode import encode_heatmaps, encode_pafs
from openpose_py.errors import DatasetError
from openpose_py.skeleton import BODY_25, COCO_17_NAMES, COCO_18, MPI_15

_PERSON_CATEGORY = {"id": 1, "name": "person", "supercategory": "person", "keypoints": list(COCO_17_NAMES),
                    "skeleton": []}


def _person(image_id: int, ann_id: int, points: dict[str, tuple[float, float]], *, crowd: bool = False,
            segmentation=None, bbox=(10.0, 10.0, 60.0, 80.0)) -> dict:
    kps = [0.0] * 51
    for name, (x, y) in points.items():
        i = COCO_17_NAMES.index(name)
        kps[3 * i:3 * i + 3] = [x, y, 2]
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": int(crowd), "keypoints": kps,
            "num_keypoints": len(points), "bbox": list(bbox), "area": bbox[2] * bbox[3],
            "segmentation": segmentation if segmentation is not None else []}


def _write_set(root: Path, annotations: list[dict], sizes: dict[int, tuple[int, int]]) -> tuple[Path, Path]:
    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    entries = []
    for image_id, (w, h) in sizes.items():
        name = f"{image_id:012d}.jpg"
        cv2.imwrite(str(images / name), np.full((h, w, 3), 90, np.uint8))
        entries.append({"id": image_id, "file_name": name, "width": w, "height": h})
    path = root / "ann.json"
    path.write_text(json.dumps({"images": entries, "annotations": annotations, "categories": [_PERSON_CATEGORY]}))
    return images, path


_BODY = {"nose": (40.0, 20.0), "left_shoulder": (50.0, 35.0), "right_shoulder": (30.0, 35.0),
         "left_hip": (48.0, 60.0), "right_hip": (32.0, 60.0), "left_wrist": (55.0, 55.0)}


def test_dev_set_samples_one_per_main_person(dev_set: tuple[Path, Path]) -> None:
    images, annotations = dev_set
    data = json.loads(annotations.read_text())
    mains = [a for a in data["annotations"] if a["num_keypoints"] >= 5 and a["area"] >= 32 * 32 and not a["iscrowd"]]
    ds = CocoKeypoints(images, annotations, COCO_18, AugmentConfig(crop_size=184))
    assert len(ds) == len(mains)
    assert sorted(ds.image_ids) == sorted(a["image_id"] for a in mains)
    s = ds[0]
    assert s.image.dtype == torch.uint8 and s.image.shape == (3, 184, 184)
    assert s.keypoints.dtype == torch.float32 and s.keypoints.shape[1:] == (18, 3)
    assert s.mask.shape == (1, 23, 23)
    with_negatives = CocoKeypoints(images, annotations, COCO_18, AugmentConfig(crop_size=184),
                                   DatasetConfig(negatives=True))
    images_with_main = {a["image_id"] for a in mains}
    assert len(with_negatives) == len(mains) + len(data["images"]) - len(images_with_main)


def test_dev_loss_mask_covers_people_without_keypoints(dev_set: tuple[Path, Path]) -> None:
    """Image 434204 has two annotated people without keypoints: the mask is 0 on their segmentation area only."""
    from pycocotools import mask as mask_utils

    images, annotations = dev_set
    data = json.loads(annotations.read_text())
    info = next(im for im in data["images"] if im["id"] == 434204)
    ignored = [a for a in data["annotations"] if a["image_id"] == 434204 and a["num_keypoints"] == 0]
    assert len(ignored) == 2
    ds = CocoKeypoints(images, annotations, COCO_18, AugmentConfig())
    index = ds.image_ids.index(434204)
    mask = ds.source(index).mask
    assert mask is not None and mask.shape == (info["height"], info["width"])
    expected = np.zeros_like(mask, dtype=bool)
    for a in ignored:
        rles = mask_utils.frPyObjects(a["segmentation"], info["height"], info["width"])
        expected |= mask_utils.decode(mask_utils.merge(rles)).astype(bool)
    assert ((mask == 0) == expected).all()
    assert abs(expected.sum() - sum(a["area"] for a in ignored)) < 0.05 * expected.sum()


def test_neck_is_the_shoulder_midpoint_only_when_both_exist(tmp_path: Path) -> None:
    one_shoulder = {k: v for k, v in _BODY.items() if k != "right_shoulder"}
    images, ann = _write_set(tmp_path, [_person(1, 1, _BODY), _person(2, 2, one_shoulder)], {1: (100, 120),
                                                                                             2: (100, 120)})
    ds = CocoKeypoints(images, ann, COCO_18, AugmentConfig.identity(crop_size=128))
    neck, rs, ls = COCO_18.index("Neck"), COCO_18.index("RShoulder"), COCO_18.index("LShoulder")
    both = ds.source(0).keypoints[0]
    assert both[neck, 2] > 0 and np.allclose(both[neck, :2], (both[rs, :2] + both[ls, :2]) / 2)
    assert (ds.source(1).keypoints[0, neck] == 0).all()
    # the affine augmentation keeps midpoints: in the crop too
    crop = ds[0].keypoints[0].numpy()
    assert np.allclose(crop[neck, :2], (crop[rs, :2] + crop[ls, :2]) / 2, atol=1e-4)
    # LWrist keeps its COCO position under the skeleton's own name
    assert np.allclose(both[COCO_18.index("LWrist"), :2], _BODY["left_wrist"])
    body25 = CocoKeypoints(images, ann, BODY_25, AugmentConfig.identity(crop_size=128)).source(0).keypoints[0]
    mid_hip = BODY_25.index("MidHip")
    assert np.allclose(body25[mid_hip, :2], (40.0, 60.0)) and (body25[BODY_25.index("LBigToe")] == 0).all()


def test_crowd_rle_and_polygon_masks(tmp_path: Path) -> None:
    from pycocotools import mask as mask_utils

    h, w = 60, 80
    crowd = np.zeros((h, w), np.uint8, order="F")
    crowd[5:20, 50:70] = 1
    rle = mask_utils.encode(crowd)
    rle["counts"] = rle["counts"].decode()
    anns = [
        _person(1, 1, _BODY),
        _person(1, 2, {}, crowd=True, segmentation=rle),
        _person(1, 3, {}, segmentation=[[0, 40, 10, 40, 10, 50, 0, 50]]),
    ]
    images, ann = _write_set(tmp_path, anns, {1: (w, h)})
    ds = CocoKeypoints(images, ann, COCO_18, AugmentConfig.identity(crop_size=64))
    mask = ds.source(0).mask
    assert (mask[5:20, 50:70] == 0).all() and (mask[42:49, 1:9] == 0).all()
    assert mask.sum() == pytest.approx(h * w - 15 * 20 - 11 * 11, abs=25)
    assert ds.source(0).keypoints.shape[0] == 1  # crowd and keypoint-less people are not targets


def test_negative_image_batch_encodes_to_pure_background(tmp_path: Path) -> None:
    images, ann = _write_set(tmp_path, [], {1: (90, 70), 2: (50, 100)})
    with pytest.raises(DatasetError, match="no training samples"):
        CocoKeypoints(images, ann)
    ds = CocoKeypoints(images, ann, COCO_18, AugmentConfig(crop_size=64), DatasetConfig(negatives=True))
    batch = collate([ds[(0, 0)], ds[(1, 1)]])
    assert batch.keypoints.shape == (2, 1, 18, 3) and (batch.keypoints == 0).all()
    heat = encode_heatmaps(batch.keypoints, (8, 8))
    pafs = encode_pafs(batch.keypoints, COCO_18, (8, 8))
    assert (heat[:, :-1] == 0).all() and (heat[:, -1] == 1).all() and (pafs == 0).all()
    assert batch.image_ids.tolist() == [1, 2]


def test_collate_pads_people(tmp_path: Path) -> None:
    second = {k: (x + 5.0, y + 5.0) for k, (x, y) in _BODY.items()}
    images, ann = _write_set(tmp_path, [_person(1, 1, _BODY), _person(1, 2, second), _person(2, 3, _BODY)],
                             {1: (100, 120), 2: (100, 120)})
    ds = CocoKeypoints(images, ann, COCO_18, AugmentConfig.identity(crop_size=64))
    samples = [ds[i] for i in range(len(ds))]
    batch = collate(samples)
    assert batch.keypoints.shape == (3, 2, 18, 3)
    last = [i for i, s in enumerate(samples) if s.keypoints.shape[0] == 1][0]
    assert (batch.keypoints[last, 1] == 0).all()


def test_missing_folder_and_folder_without_images(tmp_path: Path) -> None:
    images, ann = _write_set(tmp_path, [_person(1, 1, _BODY)], {1: (100, 120)})
    with pytest.raises(DatasetError, match="no such image folder"):
        CocoKeypoints(tmp_path / "nope", ann)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no pictures here")
    with pytest.raises(DatasetError, match="no image files"):
        CocoKeypoints(empty, ann)


@pytest.mark.parametrize("content, match", [
    ("{not json", "not a readable JSON"),
    ("[1, 2, 3]", "not a COCO annotation file"),
    (json.dumps({"images": [], "annotations": []}), "not a COCO annotation file"),
    (json.dumps({"images": [], "annotations": [], "categories": [{"id": 1, "name": "person"}]}),
     "17 COCO keypoints"),
    (json.dumps({"images": [{"id": 1}], "annotations": [], "categories": [_PERSON_CATEGORY]}),
     r"images\[0\] has no file_name"),
])
def test_annotation_files_that_are_not_coco(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "ann.json"
    path.write_text(content)
    with pytest.raises(DatasetError, match=match):
        read_annotations(path)
    with pytest.raises(DatasetError, match="no such annotation file"):
        read_annotations(tmp_path / "absent.json")


def test_images_missing_from_disk(tmp_path: Path) -> None:
    images, ann = _write_set(tmp_path, [_person(1, 1, _BODY), _person(2, 2, _BODY)], {1: (100, 120), 2: (100, 120)})
    (images / f"{2:012d}.jpg").unlink()
    with pytest.raises(DatasetError, match=r"1 of 2 images .* missing .*000000000002\.jpg"):
        CocoKeypoints(images, ann)
    ds = CocoKeypoints(images, ann, config=DatasetConfig(skip_missing=True))
    assert ds.image_ids == [1]


def test_unreadable_image_is_a_dataset_error(tmp_path: Path) -> None:
    images, ann = _write_set(tmp_path, [_person(1, 1, _BODY)], {1: (100, 120)})
    (images / f"{1:012d}.jpg").write_bytes(b"this is not a jpeg")
    ds = CocoKeypoints(images, ann)
    with pytest.raises(DatasetError, match="image 1 of ann.json"):
        ds[0]


def test_wrong_keypoint_count_and_skeleton(tmp_path: Path, shared_dir: Path, dev_set: tuple[Path, Path]) -> None:
    images, annotations = dev_set
    crowdpose = shared_dir / "data" / "mmpose-samples" / "crowdpose"
    if (crowdpose / "test_crowdpose.json").is_file():  # 14 keypoints per person
        with pytest.raises(DatasetError, match="17 COCO keypoints"):
            CocoKeypoints(crowdpose, crowdpose / "test_crowdpose.json")
    data = json.loads(annotations.read_text())
    data["annotations"][0]["keypoints"] = data["annotations"][0]["keypoints"][:42]
    short = tmp_path / "short.json"
    short.write_text(json.dumps(data))
    with pytest.raises(DatasetError, match="has 14 keypoints"):
        CocoKeypoints(images, short)
    with pytest.raises(DatasetError, match="MPI_15 has no COCO-17"):
        CocoKeypoints(images, annotations, MPI_15)


def test_dataset_from_a_copied_subset_still_finds_its_images(tmp_path: Path) -> None:
    """file_name may hold sub-folders (as some COCO-format exports do)."""
    images, ann = _write_set(tmp_path, [_person(1, 1, _BODY)], {1: (100, 120)})
    sub = images / "sub"
    sub.mkdir()
    shutil.move(images / f"{1:012d}.jpg", sub / "a.jpg")
    data = json.loads(ann.read_text())
    data["images"][0]["file_name"] = "sub/a.jpg"
    ann.write_text(json.dumps(data))
    assert CocoKeypoints(images, ann)[0].image.shape == (3, 368, 368)
