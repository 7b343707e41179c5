"""Training targets of a batch, and the step-0 check of those targets against a network's predictions.

The check runs a network once over training samples and reports its loss against our targets, per stage and per
branch, next to a random network's: a pretrained network should sit far below the random one. The target convention
(sigma, PAF width, channel order) is the weights' own codec (:class:`~openpose_py.codec.PafCodec`, carried in their
file), so a branch far from its targets no longer means a convention the network never learnt, unless ``sigma`` or
``paf_width`` were set to differ from it. Next to
the losses it gives each branch's target scale (:func:`target_scales`): a network can sit far below the random one
and still be asked for smaller outputs than it gives (a scale under 1), which fine-tuning then lowers on every image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor, nn

from .. import models
from ..data.coco import Batch, CocoKeypoints, collate
from ..codec import HeadMaps, PafCodec
from ..models.outputs import StageOutput
from ..preprocess import normalise
from ..weights import WeightsSpec
from .config import TrainConfig
from .distributed import training_device
from .initialise import build_model
from .loss import LossReport, pose_loss
from .masks import unlabelled_part_masks

__all__ = ["encode_targets", "batch_loss", "target_scales", "TargetCheck", "check_targets", "check_run_targets"]


def encode_targets(batch: Batch, codec: PafCodec) -> HeadMaps:
    """(heatmaps (B, K+1, h, w), PAFs (B, 2L, h, w)) of a batch, on its device, by the model's codec."""
    map_size = codec.map_size((batch.images.shape[3], batch.images.shape[2]))
    with torch.no_grad():
        return codec.encode(batch.keypoints, map_size)


def _loss_inputs(batch: Batch, spec: WeightsSpec,
                 mask_unlabelled: bool) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor | None]:
    """(network input, heatmap targets, PAF targets, heatmap mask, PAF mask or None) of a batch."""
    heatmaps, pafs = encode_targets(batch, spec.codec)
    mask, paf_mask = batch.masks, None
    if mask_unlabelled:
        hm_mask, pf_mask = unlabelled_part_masks(batch.keypoints, spec.skeleton, tuple(heatmaps.shape[-2:]),
                                                 spec.codec.stride)
        mask, paf_mask = batch.masks * hm_mask, batch.masks * pf_mask
    return normalise(batch.images, spec.preprocess), heatmaps, pafs, mask, paf_mask


def batch_loss(network: nn.Module, batch: Batch, spec: WeightsSpec, *, amp: bool = False,
               teacher: nn.Module | None = None, distill: float = 0.0, mask_unlabelled: bool = False,
               distill_supervised: float = 1.0) -> LossReport:
    """The network's masked loss on one batch (normalised as at inference, targets by ``spec.codec``): what a
    training step optimises and what the step-0 check reports. ``amp`` runs the networks (not the loss) under float16
    autocast; ``teacher`` (a frozen network of the same architecture) adds the ``distill``-weighted distance of every
    stage to the teacher's (:func:`pose_loss`; times ``distill_supervised`` where the targets supervise);
    ``mask_unlabelled`` leaves the parts annotated people lack out of the loss
    (:func:`openpose_py.train.masks.unlabelled_part_masks`)."""
    x, heatmaps, pafs, mask, paf_mask = _loss_inputs(batch, spec, mask_unlabelled)
    with torch.autocast(x.device.type, dtype=torch.float16, enabled=amp):
        stages = network(x)
        if teacher is not None:
            with torch.no_grad():
                taught = teacher(x)
    return pose_loss(stages, heatmaps, pafs, mask, taught if teacher is not None else None, distill,
                     paf_mask=paf_mask, distill_supervised=distill_supervised)


def target_scales(stages: Sequence[StageOutput], heatmaps: Tensor, pafs: Tensor, mask: Tensor,
                  paf_mask: Tensor | None = None) -> dict[str, float]:
    """Per stage and branch, the factor ``s`` for which ``s`` times the network's (masked) output comes closest to the
    targets in the loss's L2: ``sum(m f t) / sum(m f f)``; the heatmaps' background channel is left out.

    Under 1, the targets ask for less than the network gives: the loss falls fastest by shrinking the outputs
    everywhere, so the first steps lower them on every image, those it never trained on included. Over 1, they grow.
    Keys as :meth:`LossReport.parts` (``stage{i}/heatmaps``, ``stage{i}/pafs``); nan where the output is all zero.
    """
    parts = heatmaps.shape[1] - 1
    out: dict[str, float] = {}
    for i, stage in enumerate(stages, start=1):
        for branch, output, target, weight in (("heatmaps", stage.heatmaps, heatmaps[:, :parts], mask),
                                               ("pafs", stage.pafs, pafs, mask if paf_mask is None else paf_mask)):
            if output is None:
                continue
            f = output[:, :target.shape[1]].float()
            m = weight.float()
            den = float((m * f * f).sum())
            out[f"stage{i}/{branch}"] = float((m * f * target).sum()) / den if den > 0 else float("nan")
    return out


@dataclass(frozen=True)
class TargetCheck:
    """Loss per stage and branch (:meth:`LossReport.as_dict` keys) of the network being trained and of a random
    network of the same architecture, over the same ``num_samples`` training samples, and the network's
    :func:`target_scales` (the factor the targets ask of its outputs)."""

    num_samples: int
    trained: dict[str, float]
    random: dict[str, float]
    scales: dict[str, float]

    def ratios(self) -> dict[str, float]:
        """The network's loss over the random network's, per key (well below 1 when the targets fit)."""
        return {k: v / self.random[k] if self.random[k] else float("nan") for k, v in self.trained.items()}

    def table(self) -> str:
        """A plain-text table: key, network loss, random loss, ratio, and the target scale of each stage's branch."""
        ratios = self.ratios()
        rows = [f"{'loss':<18}{'network':>12}{'random':>12}{'ratio':>8}{'scale':>8}"]
        for k, v in self.trained.items():
            scale = f"{self.scales[k]:>8.3f}" if k in self.scales else f"{'-':>8}"
            rows.append(f"{k:<18}{v:>12.3f}{self.random[k]:>12.3f}{ratios[k]:>8.3f}{scale}")
        return "\n".join(rows)


def check_targets(model: nn.Module, spec: WeightsSpec, dataset: CocoKeypoints, *, num_samples: int = 8, seed: int = 0,
                  device: torch.device | str = "cpu", mask_unlabelled: bool = False) -> TargetCheck:
    """Run ``model`` (in eval mode) and a seeded random network of the same architecture once over the first
    ``num_samples`` samples of ``dataset`` (augmentation draws 0..n-1) and compare their losses, with the targets
    of ``spec.codec``."""
    n = min(num_samples, len(dataset))
    batch = collate([dataset[(i, i)] for i in range(n)]).to(device)
    torch.manual_seed(seed)
    random_net = models.create(spec.architecture, **spec.builder_kwargs).to(device)
    x, heatmaps, pafs, mask, paf_mask = _loss_inputs(batch, spec, mask_unlabelled)
    reports, scales = [], {}
    for net in (model, random_net):
        was_training = net.training
        net.eval()
        try:
            with torch.no_grad():
                stages = net(x)
        finally:
            net.train(was_training)
        reports.append(pose_loss(stages, heatmaps, pafs, mask, paf_mask=paf_mask).as_dict())
        if net is model:
            scales = target_scales(stages, heatmaps, pafs, mask, paf_mask)
    return TargetCheck(n, reports[0], reports[1], scales)


def check_run_targets(config: TrainConfig, num_samples: int = 8) -> TargetCheck:
    """:func:`check_targets` for a training configuration: its initial network (``config.init``), its samples
    (augmented as configured) and the codec it would train with; nothing is trained or written."""
    device = training_device(config.device) if config.device else torch.device("cpu")
    model, spec = build_model(config)
    dataset = CocoKeypoints(config.images, config.annotations, spec.skeleton, config.augment, config.data,
                            seed=config.seed)
    return check_targets(model.to(device), spec, dataset, num_samples=num_samples, seed=config.seed, device=device,
                         mask_unlabelled=config.mask_unlabelled)
