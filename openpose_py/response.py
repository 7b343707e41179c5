"""How strongly a network answers where people are annotated: its heatmap at every labelled keypoint and its PAF line
integral along every limb whose two ends are labelled.

COCO AP on a few photos moves in steps: a limb that falls under the decoder's threshold drops a whole arm, and on
four people that is a tenth of the AP. Two networks run over the same annotated people (the pretrained one and a
fine-tuned one, say) give one response per labelled keypoint and limb, in the same order, so their difference
resolves changes far smaller than AP can, and shows whether they are systematic (most responses fall) or scattered.
``openpose-py eval --compare-to`` and ``scripts/finetune_bench.py`` judge fine-tuning with it (docs/finetuning.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .decode.decoder import DecoderConfig
from .decode.limbs import paf_projections, sample_bilinear
from .grid import MapGrid
from .images import load_image
from .skeleton import Skeleton

__all__ = ["Responses", "ResponseChange", "map_responses", "responses"]


@dataclass(frozen=True)
class ResponseChange:
    """How one network's :class:`Responses` differ from another's on the same people.

    Attributes:
        keypoints, limbs: mean change of the keypoint and limb responses.
        keypoints_fell, limbs_fell: share of them that fell by more than ``tolerance``.
        limbs_lost, limbs_gained: limbs that stopped / started passing the decoder's test.
    """

    keypoints: float
    limbs: float
    keypoints_fell: float
    limbs_fell: float
    limbs_lost: int
    limbs_gained: int

    def as_dict(self) -> dict[str, float | int]:
        return {"keypoints": round(self.keypoints, 4), "limbs": round(self.limbs, 4),
                "keypoints_fell": round(self.keypoints_fell, 3), "limbs_fell": round(self.limbs_fell, 3),
                "limbs_lost": self.limbs_lost, "limbs_gained": self.limbs_gained}


@dataclass(frozen=True)
class Responses:
    """One network's responses on a set of annotated people, in a fixed order (images by id, people in file order,
    keypoints and limbs in skeleton order, unlabelled ones left out).

    Attributes:
        keypoints: (N,) heatmap value at each labelled keypoint.
        limbs: (M,) mean PAF projection onto each labelled limb's direction (its line integral).
        limb_passes: (M,) whether the limb passes the decoder's test (more than ``min_inlier_ratio`` of its points
            above ``paf_threshold``).
    """

    keypoints: np.ndarray
    limbs: np.ndarray
    limb_passes: np.ndarray

    def change(self, before: "Responses", tolerance: float = 1e-4) -> ResponseChange:
        """This network's responses against ``before``'s, taken on the same people."""
        if self.keypoints.shape != before.keypoints.shape or self.limbs.shape != before.limbs.shape:
            raise ValueError("the two sets of responses were not taken on the same people")
        dk = self.keypoints - before.keypoints
        dl = self.limbs - before.limbs

        def mean(values: np.ndarray) -> float:
            return float(values.mean()) if values.size else 0.0

        return ResponseChange(mean(dk), mean(dl), mean(dk < -tolerance), mean(dl < -tolerance),
                              int((before.limb_passes & ~self.limb_passes).sum()),
                              int((~before.limb_passes & self.limb_passes).sum()))


def map_responses(heatmaps: Tensor, pafs: Tensor, keypoints: Tensor, skeleton: Skeleton, stride: float,
                  decoder: DecoderConfig | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """The responses of one image's maps at its annotated people.

    Args:
        heatmaps: (K(+1), h, w); pafs: (2L, h, w), on a grid of ``stride`` pixels per cell (pixel-centre convention,
            :class:`~openpose_py.grid.MapGrid`).
        keypoints: (P, K, 3) x, y, visibility in the same pixels, skeleton order; visibility 0 = unlabelled.
        decoder: supplies the line integral's points (``paf_samples``) and the limb test (``paf_threshold``,
            ``min_inlier_ratio``); None: the default decoder's.

    Returns:
        (keypoint responses (N,), limb responses (M,), limb passes (M,) bool), people by people.
    """
    decoder = decoder or DecoderConfig()
    kp = keypoints.float()
    cells = MapGrid(stride).to_cells(kp[..., :2])  # (P, K, 2)
    labelled = kp[..., 2] > 0
    person, part = labelled.nonzero(as_tuple=True)
    at = cells[person, part]
    keypoint_values = sample_bilinear(heatmaps.float(), part, at[:, 0], at[:, 1])
    a_idx, b_idx = torch.tensor(skeleton.limb_a), torch.tensor(skeleton.limb_b)
    both = labelled[:, a_idx] & labelled[:, b_idx]  # (P, L)
    person, limb = both.nonzero(as_tuple=True)
    a, b = kp[person, a_idx[limb], :2], kp[person, b_idx[limb], :2]
    dots, valid, samples = paf_projections(pafs, skeleton, limb, a, b, stride, decoder.paf_samples)
    passes = ((dots > decoder.paf_threshold) & valid).sum(dim=1) > decoder.min_inlier_ratio * samples
    return keypoint_values, dots.sum(dim=1) / samples, passes


def responses(estimator, images_dir: str | Path, annotations_path: str | Path, *,
              max_images: int | None = None) -> Responses:
    """Run a :class:`~openpose_py.inference.PoseEstimator` over every image of a COCO keypoint file that has people
    COCO evaluation scores (not crowds, at least one labelled keypoint) and take its responses at them, on the
    network's own grid as the decoder reads it (:meth:`~openpose_py.inference.PoseEstimator.network_grid`).
    ``max_images``: only the first N images of the file by id (as :func:`openpose_py.evaluate.evaluate` takes
    them).

    Raises:
        DatasetError: the annotation file is not COCO keypoints (:func:`openpose_py.data.coco.read_annotations`).
        ImageReadError: an image is missing or unreadable.
    """
    from .data.coco import people_keypoints, read_annotations

    dataset, category = read_annotations(annotations_path)
    skeleton: Skeleton = estimator.skeleton
    by_image: dict[int, list[dict]] = {}
    for ann in dataset["annotations"]:
        if int(ann["category_id"]) == category:
            by_image.setdefault(int(ann["image_id"]), []).append(ann)
    files = {int(im["id"]): im["file_name"] for im in dataset["images"]}
    chosen = sorted(files)[:max_images] if max_images is not None else sorted(files)
    parts: list[list[Tensor]] = [[], [], []]
    for image_id in chosen:
        people = people_keypoints(by_image.get(image_id, []), skeleton)
        if not len(people):
            continue
        maps = estimator.network_grid(load_image(Path(images_dir) / files[image_id]))
        keypoints = torch.from_numpy(people)
        keypoints[..., :2] = maps.box.to_input(keypoints[..., :2])
        found = map_responses(maps.heatmaps.cpu(), maps.pafs.cpu(), keypoints, skeleton, maps.stride,
                              estimator.decoder)
        for bucket, values in zip(parts, found):
            bucket.append(values)
    keypoint_values, limb_values, passes = (torch.cat(p).numpy() if p else np.zeros(0) for p in parts)
    return Responses(keypoint_values.astype(np.float64), limb_values.astype(np.float64), passes.astype(bool))
