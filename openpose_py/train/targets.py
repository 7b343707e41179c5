"""Training targets of a batch, and the step-0 check of those targets against a network's predictions.

The check runs a network once over training samples and reports its loss against our targets, per stage and per
branch, next to a random network's: a pretrained network should sit far below the random one, and a branch where it
does not points to a target convention (sigma, PAF width, channel order) that differs from the one it learnt.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .. import models
from ..data.coco import Batch, CocoKeypoints, collate
from ..encode import encode_heatmaps, encode_pafs
from ..preprocess import normalise
from ..skeleton import Skeleton
from ..weights import WeightsSpec
from .config import TrainConfig
from .initialise import build_model
from .loss import LossReport, pose_loss
from .masks import unlabelled_part_masks

__all__ = ["encode_targets", "batch_loss", "TargetCheck", "check_targets", "check_run_targets"]


def encode_targets(batch: Batch, skeleton: Skeleton, stride: int, sigma: float,
                   paf_width: float) -> tuple[Tensor, Tensor]:
    """(heatmaps (B, K+1, h, w), PAFs (B, 2L, h, w)) of a batch, on its device."""
    map_size = (batch.images.shape[2] // stride, batch.images.shape[3] // stride)
    with torch.no_grad():
        heatmaps = encode_heatmaps(batch.keypoints, map_size, stride, sigma)
        pafs = encode_pafs(batch.keypoints, skeleton, map_size, stride, paf_width)
    return heatmaps, pafs


def batch_loss(network: nn.Module, batch: Batch, spec: WeightsSpec, sigma: float, paf_width: float, *,
               amp: bool = False, teacher: nn.Module | None = None, distill: float = 0.0,
               mask_unlabelled: bool = False) -> LossReport:
    """The network's masked loss on one batch (normalised as at inference, targets as in training): what a training
    step optimises and what the step-0 check reports. ``amp`` runs the networks (not the loss) under float16
    autocast; ``teacher`` (a frozen network of the same architecture) adds the ``distill``-weighted distance of every
    stage to the teacher's (:func:`pose_loss`); ``mask_unlabelled`` leaves the parts annotated people lack out of the
    loss (:func:`openpose_py.train.masks.unlabelled_part_masks`)."""
    stride = spec.preprocess.stride
    heatmaps, pafs = encode_targets(batch, spec.skeleton, stride, sigma, paf_width)
    mask, paf_mask = batch.masks, None
    if mask_unlabelled:
        hm_mask, pf_mask = unlabelled_part_masks(batch.keypoints, spec.skeleton, tuple(heatmaps.shape[-2:]), stride)
        mask, paf_mask = batch.masks * hm_mask, batch.masks * pf_mask
    x = normalise(batch.images, spec.preprocess)
    with torch.autocast(x.device.type, dtype=torch.float16, enabled=amp):
        stages = network(x)
        if teacher is not None:
            with torch.no_grad():
                taught = teacher(x)
    return pose_loss(stages, heatmaps, pafs, mask, taught if teacher is not None else None, distill,
                     paf_mask=paf_mask)


@dataclass(frozen=True)
class TargetCheck:
    """Loss per stage and branch (:meth:`LossReport.as_dict` keys) of the network being trained and of a random
    network of the same architecture, over the same ``num_samples`` training samples."""

    num_samples: int
    trained: dict[str, float]
    random: dict[str, float]

    def ratios(self) -> dict[str, float]:
        """The network's loss over the random network's, per key (well below 1 when the targets fit)."""
        return {k: v / self.random[k] if self.random[k] else float("nan") for k, v in self.trained.items()}

    def table(self) -> str:
        """A plain-text table: key, network loss, random loss, ratio."""
        ratios = self.ratios()
        rows = [f"{'loss':<18}{'network':>12}{'random':>12}{'ratio':>8}"]
        rows += [f"{k:<18}{v:>12.3f}{self.random[k]:>12.3f}{ratios[k]:>8.3f}" for k, v in self.trained.items()]
        return "\n".join(rows)


def check_targets(model: nn.Module, spec: WeightsSpec, dataset: CocoKeypoints, *, sigma: float, paf_width: float,
                  num_samples: int = 8, seed: int = 0, device: torch.device | str = "cpu",
                  mask_unlabelled: bool = False) -> TargetCheck:
    """Run ``model`` (in eval mode) and a seeded random network of the same architecture once over the first
    ``num_samples`` samples of ``dataset`` (augmentation draws 0..n-1) and compare their losses."""
    n = min(num_samples, len(dataset))
    batch = collate([dataset[(i, i)] for i in range(n)]).to(device)
    torch.manual_seed(seed)
    random_net = models.create(spec.architecture, **spec.builder_kwargs).to(device)
    reports = []
    for net in (model, random_net):
        was_training = net.training
        net.eval()
        try:
            with torch.no_grad():
                reports.append(batch_loss(net, batch, spec, sigma, paf_width,
                                          mask_unlabelled=mask_unlabelled).as_dict())
        finally:
            net.train(was_training)
    return TargetCheck(n, reports[0], reports[1])


def check_run_targets(config: TrainConfig, num_samples: int = 8) -> TargetCheck:
    """:func:`check_targets` for a training configuration: its initial network (``config.init``), its samples
    (augmented as configured) and its target parameters; nothing is trained or written."""
    model, spec = build_model(config)
    dataset = CocoKeypoints(config.images, config.annotations, spec.skeleton, config.augment, config.data,
                            seed=config.seed)
    device = torch.device(config.device) if config.device else torch.device("cpu")
    return check_targets(model.to(device), spec, dataset, sigma=config.sigma, paf_width=config.paf_width,
                         num_samples=num_samples, seed=config.seed, device=device,
                         mask_unlabelled=config.mask_unlabelled)
