"""Anchor photos become tiles whose whole area is left out of the supervised loss, drawn as negative samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from openpose_py.data.coco import CocoKeypoints, DatasetConfig
from openpose_py.data.transforms import AugmentConfig
from openpose_py.errors import DatasetError
from openpose_py.images import write_image
from openpose_py.skeleton import COCO_17_NAMES
from openpose_py.train.anchors import ANCHOR_ID_BASE, anchor_coco, anchor_tiles


def test_tiles_cover_the_image_with_overlap() -> None:
    image = np.arange(50 * 70).reshape(50, 70)
    tiles = anchor_tiles(image, 32)
    assert all(t.shape == (32, 32) for t in tiles)
    covered = np.zeros_like(image, dtype=bool)
    for t in tiles:  # each tile is a view of the image: find where it starts
        y, x = divmod(int(t[0, 0]), 70)
        covered[y:y + 32, x:x + 32] = True
    assert covered.all() and len(tiles) == 3 * 4  # starts 0, 9, 18 down; 0, 13, 25, 38 across
    assert [t.shape for t in anchor_tiles(image[:20, :30], 32)] == [(20, 30)]


def test_anchor_samples_are_wholly_masked_negatives(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.jpg", "b.png"):
        write_image(photos / name, rng.integers(0, 255, (40, 60, 3), dtype=np.uint8))
    frames = tmp_path / "frames"
    images, anns = anchor_coco(photos, frames, 32, samples=24, share=0.5, first_ann_id=7)
    assert len(images) == 24 and len(anns) == 24  # 2 photos x 2 x 3 tiles, twice: as many as the 24 footage samples
    assert images[0]["id"] == ANCHOR_ID_BASE and anns[0]["id"] == 7
    assert all((frames / im["file_name"]).is_file() for im in images)
    doc = {"images": images, "annotations": anns,
           "categories": [{"id": 1, "name": "person", "keypoints": list(COCO_17_NAMES), "skeleton": []}]}
    (tmp_path / "train.json").write_text(json.dumps(doc))
    dataset = CocoKeypoints(frames, tmp_path / "train.json", augment=AugmentConfig.identity(crop_size=32),
                            config=DatasetConfig(negatives=True))
    assert len(dataset) == 24
    sample = dataset[0]
    assert sample.keypoints.shape[0] == 0 and float(sample.mask.max()) == 0.0
    with pytest.raises(DatasetError, match="anchor images"):
        anchor_coco(tmp_path / "none", frames, 32, samples=1, share=0.5, first_ann_id=1)
