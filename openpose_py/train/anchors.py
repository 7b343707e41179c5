"""Anchor photos for ``train --recipe adapt``: pictures on which a run only holds the network to where it started.

Trained on one piece of footage, the network also changes where the footage says nothing: close-ups, photos, other
scenes (docs/finetuning.md measures it on COCO photos). Anchors are the remedy of "learning without forgetting":
unlabelled photos of other scenes (never the photos you evaluate on), cut into square tiles about the size of the
network's input at the scale it runs at. Each tile is an image whose whole area is an ignored region, so the dataset
masks it out of the supervised loss entirely (:meth:`openpose_py.data.coco.CocoKeypoints.loss_mask`) and only the
distillation term (the distance to the frozen starting network's outputs, ``TrainConfig.distill``) acts on it; being
without people, a tile is drawn as a negative sample (``DatasetConfig.negatives``), fit into the crop.

The tiles are written into the footage cache's ``frames/anchors/`` and listed, repeated, in ``train.json`` so that
they make up about ``share`` of the training samples.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import DatasetError, ImageReadError
from ..images import load_image, write_image
from ..skeleton import COCO_17_NAMES
from ..video.sources import expand_image_paths

__all__ = ["ANCHOR_FOLDER", "ANCHOR_ID_BASE", "anchor_tiles", "anchor_coco"]

log = logging.getLogger(__name__)

#: The anchors' sub-folder of the cached frames.
ANCHOR_FOLDER = "anchors"
#: Anchor tiles' image ids start here, far above any frame index.
ANCHOR_ID_BASE = 1_000_000_000


def anchor_tiles(image: np.ndarray, side: int) -> list[np.ndarray]:
    """Square tiles of ``side`` pixels covering ``image``, evenly spaced from edge to edge, neighbours overlapping by at
    least half a tile; an image no larger than a tile along an axis is one tile along it."""
    h, w = image.shape[:2]

    def starts(length: int) -> list[int]:
        count = 1 + max(0, math.ceil((length - side) / (side // 2)))
        return sorted({round(float(s)) for s in np.linspace(0, max(length - side, 0), count)})

    return [image[y:y + side, x:x + side] for y in starts(h) for x in starts(w)]


def _ignored_image(ann_id: int, image_id: int, width: int, height: int) -> dict[str, Any]:
    """An annotation without keypoints whose segmentation covers the whole image (and a pixel beyond)."""
    x1, y1 = float(width + 1), float(height + 1)
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 0, "num_keypoints": 0,
            "keypoints": [0] * (3 * len(COCO_17_NAMES)), "bbox": [0.0, 0.0, float(width), float(height)],
            "area": float(width * height), "segmentation": [[-1.0, -1.0, x1, -1.0, x1, y1, -1.0, y1]]}


def anchor_coco(photos: Path, frames: Path, side: int, samples: int, share: float,
                first_ann_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Cut the photos under ``photos`` into tiles (:func:`anchor_tiles`), write them into ``frames/anchors`` and
    return ``(images, annotations)`` for ``train.json``: each tile repeated so that the tiles make up about ``share``
    of ``samples + tiles`` training samples (at least once each), every copy a whole-image ignored region.

    Raises:
        DatasetError: no such folder, no images in it, an unreadable image.
    """
    try:
        paths = expand_image_paths([photos])
        tiles = [(f"{name.replace('/', '_')}_{k}.jpg", tile) for path, name in paths
                 for k, tile in enumerate(anchor_tiles(load_image(path), side))]
    except ImageReadError as exc:
        raise DatasetError(f"anchor images: {exc}") from exc
    folder = frames / ANCHOR_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, tile in tiles:
        write_image(folder / file_name, np.ascontiguousarray(tile), (cv2.IMWRITE_JPEG_QUALITY, 95))
    repeat = max(1, round(share / (1.0 - share) * samples / len(tiles)))
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for _ in range(repeat):
        for file_name, tile in tiles:
            image_id = ANCHOR_ID_BASE + len(images)
            images.append({"id": image_id, "file_name": f"{ANCHOR_FOLDER}/{file_name}", "width": tile.shape[1],
                           "height": tile.shape[0]})
            annotations.append(_ignored_image(first_ann_id + len(annotations), image_id, tile.shape[1],
                                              tile.shape[0]))
    log.info("anchors: %d tiles of %d photos under %s, each %d times (%d samples beside about %d of the footage)",
             len(tiles), len(paths), photos, repeat, len(images), samples)
    return images, annotations
