"""COCO person-keypoint data for training: samples of augmented image, people and loss mask.

The dataset yields the network input as uint8 pixels, the people's keypoints in crop pixels (skeleton order) and the
loss mask at the network stride; the targets themselves are encoded per batch by the trainer, on its device, with
the model's codec (:class:`openpose_py.codec.PafCodec`).

Conventions of the reference training data: one sample per *main person* (an annotated person with at least
``min_keypoints`` keypoints and an area of at least ``min_area`` pixels), centred and scaled relative to that person;
every other annotated person of the image is in the targets too (COCO-17 converted by ``Skeleton.from_coco17``,
which derives synthetic points such as the COCO-18 Neck); crowd regions and people without keypoints are
masked out of the loss through their segmentation. Images without a main person are optional negatives.

Shapes: P people, K keypoints, S crop size, s stride, B batch.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, NamedTuple, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..checks import check_all
from ..errors import DatasetError, ImageReadError
from ..images import load_image
from ..skeleton import COCO_17_NAMES, COCO_18, Skeleton
from .coco_checks import read_annotations
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

    def __post_init__(self) -> None:
        # each message starts with the attribute's name, so that a configuration can say where it came from
        check_all((
            (0 <= self.min_keypoints <= len(COCO_17_NAMES),
             f"min_keypoints must lie in [0, {len(COCO_17_NAMES)}], got {self.min_keypoints}"),
            (0.0 <= self.min_area < math.inf, f"min_area must be a finite number >= 0, got {self.min_area}"),
        ))


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


def labelled_keypoints(ann: dict[str, Any]) -> int:
    """An annotation's count of labelled keypoints: its ``num_keypoints``, else the keypoints with visibility > 0."""
    kps = ann.get("keypoints") or []
    return int(ann.get("num_keypoints", sum(1 for v in kps[2::3] if v > 0)))


def scored_person(ann: dict[str, Any]) -> bool:
    """Whether COCO keypoint evaluation scores this annotation: not a crowd (a missing ``iscrowd`` reads as 0, in
    evaluation too: :mod:`openpose_py.data.coco_checks`), at least one labelled keypoint (the others are ignored
    there, and are masked out of training)."""
    return not ann.get("iscrowd", 0) and labelled_keypoints(ann) > 0


def people_keypoints(anns: Sequence[dict[str, Any]], skeleton: Skeleton) -> np.ndarray:
    """The keypoints of the people COCO evaluation scores among ``anns`` (:func:`scored_person`; their lengths checked
    by :func:`~openpose_py.data.coco_checks.read_annotations`), as (P, K, 3) x, y, visibility in ``skeleton``'s order
    (:meth:`Skeleton.from_coco17`)."""
    kept = [ann["keypoints"] for ann in anns if scored_person(ann)]
    return skeleton.from_coco17(np.asarray(kept, dtype=np.float32).reshape(-1, len(COCO_17_NAMES), 3))


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
