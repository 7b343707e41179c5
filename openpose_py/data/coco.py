"""COCO person-keypoint data for training: samples of augmented image, people and loss mask.

The dataset yields the network input as uint8 pixels, the people's keypoints in crop pixels (skeleton order) and the
loss mask at the network stride; the targets themselves are encoded per batch by the trainer, on its device, with
:mod:`openpose_py.encode`.

Conventions of the reference training data: one sample per *main person* (an annotated person with at least
``min_keypoints`` keypoints and an area of at least ``min_area`` pixels), centred and scaled relative to that person;
every other annotated person of the image is in the targets too (COCO-17 converted by ``Skeleton.from_coco17``,
which derives synthetic points such as the COCO-18 Neck); crowd regions and people without keypoints are
masked out of the loss through their segmentation. Images without a main person are optional negatives.

Shapes: P people, K keypoints, S crop size, s stride, B batch.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, NamedTuple, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import DatasetError, ImageReadError
from ..images import load_image
from ..skeleton import COCO_17_NAMES, COCO_18, Skeleton
from .transforms import AugmentConfig, augment, draw_params

__all__ = ["DatasetConfig", "Source", "Sample", "Batch", "CocoKeypoints", "collate", "read_annotations",
           "people_keypoints"]

log = logging.getLogger(__name__)

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass(frozen=True, slots=True)
class DatasetConfig:
    """How samples are chosen from a COCO keypoint file.

    Attributes:
        min_keypoints: a person needs this many labelled keypoints to be a main person (reference 5).
        min_area: and this segmentation area in source pixels (reference 32 x 32).
        negatives: also yield one sample per image without any main person (centred, scaled to fit the crop).
        skip_missing: leave out images missing from disk (with a warning) instead of refusing the dataset.
    """

    min_keypoints: int = 5
    min_area: float = 32.0 * 32.0
    negatives: bool = False
    skip_missing: bool = False


class Source(NamedTuple):
    """One sample before augmentation.

    image: (H, W, 3) uint8 BGR; keypoints: (P, K, 3) float32 in source pixels, skeleton order; mask: (H, W) float32
    loss weight or None (nothing ignored); center, height: the main person's box centre and height in source pixels;
    image_id: the COCO image id.
    """

    image: np.ndarray
    keypoints: np.ndarray
    mask: np.ndarray | None
    center: tuple[float, float]
    height: float
    image_id: int


class Sample(NamedTuple):
    """One training sample.

    image: (3, S, S) uint8 BGR; keypoints: (P, K, 3) float32 x, y, visibility in crop pixels (P may be 0);
    mask: (1, S/s, S/s) float32 loss weight; image_id: the COCO image id.
    """

    image: torch.Tensor
    keypoints: torch.Tensor
    mask: torch.Tensor
    image_id: int


class Batch(NamedTuple):
    """Collated samples: images (B, 3, S, S) uint8; keypoints (B, P, K, 3) padded with zeros (P >= 1);
    masks (B, 1, S/s, S/s); image_ids (B,) int64."""

    images: torch.Tensor
    keypoints: torch.Tensor
    masks: torch.Tensor
    image_ids: torch.Tensor

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        return Batch(*(t.to(device, non_blocking=non_blocking) for t in self))


def collate(samples: Sequence[Sample]) -> Batch:
    """Stack samples, padding every image to the largest number of people in the batch (at least one)."""
    if not samples:
        raise ValueError("cannot collate an empty batch")
    num_people = max(1, max(s.keypoints.shape[0] for s in samples))
    k = samples[0].keypoints.shape[1]
    kps = torch.zeros((len(samples), num_people, k, 3), dtype=torch.float32)
    for i, s in enumerate(samples):
        kps[i, :s.keypoints.shape[0]] = s.keypoints
    return Batch(
        torch.stack([s.image for s in samples]),
        kps,
        torch.stack([s.mask for s in samples]),
        torch.tensor([s.image_id for s in samples], dtype=torch.int64),
    )


def read_annotations(path: str | Path) -> tuple[dict[str, Any], int]:
    """Load and check a COCO person-keypoint annotation file.

    Every record is checked before anything uses the file, so that a bad one is reported up front, by name, rather
    than failing (or silently changing a score) later.

    Returns:
        (the parsed JSON, the id of its 17-keypoint person category).

    Raises:
        DatasetError: missing, unreadable, not JSON, not COCO-shaped, without a 17-keypoint person category, or
            with a malformed record: an image without an integer id, a file name and a size, an image id listed
            twice, an annotation of an image or category the file does not list, or a person annotation whose
            ``keypoints`` (51 numbers), ``bbox`` (4 numbers), ``area`` or ``num_keypoints`` is of the wrong shape.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"no such annotation file: {path}")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path} is not a readable JSON annotation file ({exc})") from exc
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list)
                                             for k in ("images", "annotations", "categories")):
        raise DatasetError(f"{path} is not a COCO annotation file (it needs lists 'images', 'annotations', "
                           "'categories')")
    cats = [c for c in data["categories"] if isinstance(c, dict) and len(c.get("keypoints") or ()) == 17]
    if not cats:
        raise DatasetError(f"{path} has no person category with the 17 COCO keypoints")
    try:
        for img in data["images"]:
            int(img["id"]), str(img["file_name"]), int(img["height"]), int(img["width"])
        for ann in data["annotations"]:
            int(ann["image_id"]), int(ann["category_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetError(f"{path}: malformed image or annotation entry ({exc!r})") from exc
    person = int(cats[0]["id"])
    _check_records(path, data, person)
    return data, person


def labelled_keypoints(ann: dict[str, Any]) -> int:
    """An annotation's count of labelled keypoints: its ``num_keypoints``, else the keypoints with visibility > 0."""
    kps = ann.get("keypoints") or []
    return int(ann.get("num_keypoints", sum(1 for v in kps[2::3] if v > 0)))


def scored_person(ann: dict[str, Any]) -> bool:
    """Whether COCO keypoint evaluation scores this annotation: not a crowd, at least one labelled keypoint (the
    others are ignored there, and are masked out of training)."""
    return not ann.get("iscrowd", 0) and labelled_keypoints(ann) > 0


def people_keypoints(anns: Sequence[dict[str, Any]], skeleton: Skeleton) -> np.ndarray:
    """The keypoints of the people COCO evaluation scores among ``anns`` (:func:`scored_person`; their lengths checked
    by :func:`read_annotations`), as (P, K, 3) x, y, visibility in ``skeleton``'s order
    (:meth:`Skeleton.from_coco17`)."""
    kept = [ann["keypoints"] for ann in anns if scored_person(ann)]
    return skeleton.from_coco17(np.asarray(kept, dtype=np.float32).reshape(-1, len(COCO_17_NAMES), 3))


def _is_number(value: Any) -> bool:
    # math.isfinite, not numpy's: this runs for every keypoint value of the file (13 M on COCO train2017)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _record_problem(ann: dict[str, Any]) -> str | None:
    """What is wrong with one person annotation's fields, if any (absent fields are the caller's business)."""
    if "keypoints" in ann:
        kps = ann["keypoints"]
        if not isinstance(kps, list):
            return f"keypoints is {json.dumps(kps)[:40]}, not a list of {3 * len(COCO_17_NAMES)} numbers"
        if len(kps) != 3 * len(COCO_17_NAMES):
            return (f"has {len(kps) // 3} keypoints ({len(kps)} values); COCO person keypoints have "
                    f"{len(COCO_17_NAMES)} (x, y, visibility each)")
        if not all(_is_number(v) for v in kps):
            return "keypoints holds a value that is not a finite number"
    if "bbox" in ann:
        box = ann["bbox"]
        if not (isinstance(box, list) and len(box) == 4 and all(_is_number(v) for v in box)):
            return f"bbox is {json.dumps(box)[:40]}, not [x, y, width, height]"
    if "area" in ann and not (_is_number(ann["area"]) and ann["area"] >= 0):
        return f"area is {json.dumps(ann['area'])[:40]}, not a number >= 0"
    if "num_keypoints" in ann and not (isinstance(ann["num_keypoints"], int) and ann["num_keypoints"] >= 0):
        return f"num_keypoints is {json.dumps(ann['num_keypoints'])[:40]}, not a count"
    return None


def _check_records(path: Path, data: dict[str, Any], person: int) -> None:
    """Refuse the first record that would make a dataset or a score silently different from what the file says."""
    image_ids: set[int] = set()
    for img in data["images"]:
        if int(img["id"]) in image_ids:
            raise DatasetError(f"{path}: image id {int(img['id'])} is listed twice in 'images'")
        image_ids.add(int(img["id"]))
    category_ids = {int(c["id"]) for c in data["categories"] if isinstance(c, dict) and "id" in c}
    for i, ann in enumerate(data["annotations"]):
        name = f"{path}: annotation {ann.get('id', '?')} (entry {i} of 'annotations')"
        if int(ann["image_id"]) not in image_ids:
            raise DatasetError(f"{name} is of image {int(ann['image_id'])}, which 'images' does not list")
        if int(ann["category_id"]) not in category_ids:
            raise DatasetError(f"{name} has category {int(ann['category_id'])}, which 'categories' does not list")
        problem = _record_problem(ann) if int(ann["category_id"]) == person else None
        if problem:
            raise DatasetError(f"{name}: {problem}")


@dataclass(frozen=True, slots=True)
class _Item:
    """A sample slot: an image, and the main person it centres on (None for a negative)."""

    image_index: int
    center: tuple[float, float]
    height: float
    negative: bool


class CocoKeypoints(Dataset):
    """COCO person keypoints as augmented training samples.

    ``dataset[key]`` takes ``key = index`` or ``key = (index, draw)``: ``draw`` seeds this sample's augmentation
    together with ``seed``, so that a sample is a pure function of the key and samples are reproducible whatever the
    worker count or resume point (the trainer passes a running sample counter as ``draw``).

    Args:
        images_dir: folder holding the files the annotations name by ``file_name``.
        annotations: COCO keypoint annotation JSON (COCO-17 keypoints).
        skeleton: the network's skeleton; keypoints are reordered into it and synthetic points derived.
        augment: augmentation ranges (crop size, stride ...); :meth:`AugmentConfig.identity` for none.
        config: sample selection.
        seed: base seed of the augmentation.
        image_ids: use only these images (e.g. the training part of a split); None: all.
    """

    def __init__(self, images_dir: str | Path, annotations: str | Path, skeleton: Skeleton = COCO_18,
                 augment: AugmentConfig = AugmentConfig(), config: DatasetConfig = DatasetConfig(),
                 seed: int = 0, image_ids: Collection[int] | None = None) -> None:
        self.images_dir = Path(images_dir)
        self.annotations_path = Path(annotations)
        self.skeleton = skeleton
        self.augment = augment
        self.config = config
        self.seed = int(seed)
        if skeleton.coco17 is None:
            raise DatasetError(f"skeleton {skeleton.name} has no COCO-17 correspondence; it cannot train on COCO data")
        if not self.images_dir.is_dir():
            raise DatasetError(f"no such image folder: {self.images_dir}")
        if not any(p.suffix.lower() in _IMAGE_SUFFIXES for p in self.images_dir.rglob("*") if p.is_file()):
            raise DatasetError(f"no image files under {self.images_dir}")
        data, person_cat = read_annotations(self.annotations_path)
        by_image: dict[int, list[dict[str, Any]]] = {}
        for ann in data["annotations"]:
            if int(ann["category_id"]) == person_cat:
                by_image.setdefault(int(ann["image_id"]), []).append(ann)
        images = sorted(data["images"], key=lambda im: int(im["id"]))
        if image_ids is not None:
            wanted = {int(i) for i in image_ids}
            images = [im for im in images if int(im["id"]) in wanted]
        missing = [im["file_name"] for im in images if not (self.images_dir / im["file_name"]).is_file()]
        if missing and not config.skip_missing:
            raise DatasetError(f"{len(missing)} of {len(images)} images of {self.annotations_path.name} are missing "
                               f"from {self.images_dir} (first: {missing[0]})")
        if missing:
            log.warning("skipping %d images missing from %s", len(missing), self.images_dir)
            gone = set(missing)
            images = [im for im in images if im["file_name"] not in gone]
        self._images = [{"id": int(im["id"]), "file_name": str(im["file_name"]), "height": int(im["height"]),
                         "width": int(im["width"])} for im in images]
        self._people: list[np.ndarray] = []  # per image (P, K, 3) in source pixels
        self._ignored: list[list[Any]] = []  # per image: segmentations to mask out
        self._items: list[_Item] = []
        for idx, im in enumerate(self._images):
            anns = by_image.get(im["id"], [])
            self._build_image(idx, im, anns)
        if not self._items:
            raise DatasetError(f"{self.annotations_path} yields no training samples (no person with at least "
                               f"{config.min_keypoints} keypoints; allow negatives to train on empty images)")
        log.info("%s: %d images, %d samples", self.annotations_path.name, len(self._images), len(self._items))

    def _build_image(self, idx: int, im: dict[str, Any], anns: list[dict[str, Any]]) -> None:
        ignored: list[Any] = []
        mains: list[_Item] = []
        for ann in anns:
            if not scored_person(ann):
                if ann.get("segmentation"):
                    ignored.append(ann["segmentation"])
                continue
            num = labelled_keypoints(ann)
            bbox = ann.get("bbox")
            if num >= self.config.min_keypoints and float(ann.get("area", 0.0)) >= self.config.min_area and bbox:
                x, y, w, h = (float(v) for v in bbox)
                mains.append(_Item(idx, (x + w / 2.0, y + h / 2.0), h, False))
        self._people.append(people_keypoints(anns, self.skeleton))
        self._ignored.append(ignored)
        if mains:
            self._items.extend(mains)
        elif self.config.negatives:
            w, h = im["width"], im["height"]
            # with no person to measure, scale the whole image so that its longer side fits the crop
            height = max(w, h) * self.augment.target_dist
            self._items.append(_Item(idx, ((w - 1) / 2.0, (h - 1) / 2.0), height, True))

    def __len__(self) -> int:
        return len(self._items)

    @property
    def image_ids(self) -> list[int]:
        """COCO ids of the images the samples come from, one per sample."""
        return [self._images[it.image_index]["id"] for it in self._items]

    def loss_mask(self, image_index: int) -> np.ndarray | None:
        """(H, W) float32 loss weight of one image: 0 inside crowd regions and people without keypoints, else 1.

        None when nothing in the image is ignored (the common case, which then costs nothing).
        """
        segs = self._ignored[image_index]
        if not segs:
            return None
        from pycocotools import mask as mask_utils

        im = self._images[image_index]
        h, w = im["height"], im["width"]
        rles = []
        for seg in segs:
            if isinstance(seg, list):
                polys = [p for p in seg if len(p) >= 6]  # a polygon needs three points
                if polys:
                    rles.extend(mask_utils.frPyObjects(polys, h, w))
            elif isinstance(seg, dict) and isinstance(seg.get("counts"), list):
                rles.append(mask_utils.frPyObjects(seg, h, w))
            elif isinstance(seg, dict):
                rles.append(seg)
        if not rles:
            return None
        ignore = mask_utils.decode(mask_utils.merge(rles)).astype(bool)
        return np.where(ignore, 0.0, 1.0).astype(np.float32)

    def _load(self, image_index: int) -> np.ndarray:
        path = self.images_dir / self._images[image_index]["file_name"]
        try:
            return load_image(path)
        except ImageReadError as exc:
            raise DatasetError(f"image {self._images[image_index]['id']} of {self.annotations_path.name}: "
                               f"{exc}") from exc

    def source(self, index: int) -> Source:
        """Sample ``index`` before augmentation (image, people and mask in source pixels)."""
        item = self._items[index]
        i = item.image_index
        return Source(self._load(i), self._people[i], self.loss_mask(i), item.center, item.height,
                      self._images[i]["id"])

    def __getitem__(self, key: int | tuple[int, int]) -> Sample:
        index, draw = (key, key) if isinstance(key, (int, np.integer)) else key
        src = self.source(int(index))
        params = draw_params(self.augment, np.random.default_rng([self.seed, int(draw)]))
        out = augment(src.image, src.keypoints, src.mask, src.center, src.height, self.skeleton, self.augment, params)
        kps = out.keypoints[(out.keypoints[..., 2] > 0).any(axis=1)]  # drop people who left the crop entirely
        return Sample(
            torch.from_numpy(np.ascontiguousarray(out.image.transpose(2, 0, 1))),
            torch.from_numpy(np.ascontiguousarray(kps)),
            torch.from_numpy(out.mask)[None],
            src.image_id,
        )
