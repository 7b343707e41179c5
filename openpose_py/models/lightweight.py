"""Lightweight OpenPose: MobileNetV1 (dilated) + CPM block + initial stage + refinement stage(s).

Two variants share one module tree, so that both load with ``strict=True`` and their state_dict keys line up:

- ``"hpe-0001"``: Intel Open Model Zoo ``human-pose-estimation-0001``. Batch norm is folded into the conv biases
  (the norm slots hold :class:`torch.nn.Identity`, which keeps the ``Sequential`` indices and hence the keys of the
  original layout), the CPM block has an extra 1x1 ``reduce`` conv and ELU after its ``align`` conv, and a refinement
  stage reads ``concat[PAFs, heatmaps, features]``.
- ``"original"``: the layout of the original training code (``checkpoint_iter_370000.pth``): real batch-norm layers,
  bias-free backbone convs, no ``reduce`` conv, ReLU after ``align``, refinement input ``concat[features, heatmaps,
  PAFs]``.

The network takes an already normalised (B, 3, H, W) image (H, W multiples of 8) and returns one
:class:`~openpose_py.models.outputs.StageOutput` per stage (initial, then each refinement stage), heatmaps
(B, K+1, H/8, W/8) and PAFs (B, 2L, H/8, W/8), channel counts derived from the skeleton.

The IR layer names of ``human-pose-estimation-0001`` map to module names through
:func:`openpose_py.weights.formats.openvino.hpe0001.hpe0001_ir_layers`, the one place that table lives.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from ..skeleton import COCO_18, Skeleton
from . import register
from .outputs import StageOutput

__all__ = [
    "LightweightOpenPose", "lightweight", "VARIANTS", "MOBILENET_BLOCKS", "REFINEMENT_BLOCKS",
]

Variant = Literal["hpe-0001", "original"]
VARIANTS: tuple[str, ...] = ("hpe-0001", "original")

#: MobileNetV1 depthwise-separable blocks after ``conv1``: (IR name, output channels, stride, dilation). The stride
#: stops at 8; conv5_1 dilates instead of striding to keep the receptive field growing.
MOBILENET_BLOCKS: tuple[tuple[str, int, int, int], ...] = (
    ("conv2_1", 64, 1, 1), ("conv2_2", 128, 2, 1), ("conv3_1", 128, 1, 1), ("conv3_2", 256, 2, 1),
    ("conv4_1", 256, 1, 1), ("conv4_2", 512, 1, 1), ("conv5_1", 512, 1, 2), ("conv5_2", 512, 1, 1),
    ("conv5_3", 512, 1, 1), ("conv5_4", 512, 1, 1), ("conv5_5", 512, 1, 1),
)
_STEM_CHANNELS = 32
_FEATURES = 128  # CPM output / refinement width
_INITIAL_HEAD = 512  # hidden width of the initial stage's 1x1 heads
REFINEMENT_BLOCKS = 5


def _scaled(channels: int, width: float) -> int:
    return max(1, int(round(channels * width)))


def _conv(cin: int, cout: int, kernel: int = 3, *, stride: int = 1, dilation: int = 1, groups: int = 1,
          bias: bool = True) -> nn.Conv2d:
    # "same" padding for odd kernels: every stride-1 conv keeps the map size, so H/8 x W/8 holds for any input /8
    return nn.Conv2d(cin, cout, kernel, stride, dilation * (kernel // 2), dilation, groups, bias)


def _norm(channels: int, folded: bool) -> nn.Module:
    return nn.Identity() if folded else nn.BatchNorm2d(channels)


def _depthwise_separable(cin: int, cout: int, *, stride: int, dilation: int, folded: bool) -> nn.Sequential:
    # indices 0..5 = dw conv, norm, ReLU, pointwise conv, norm, ReLU (the original code's conv_dw)
    return nn.Sequential(
        _conv(cin, cin, 3, stride=stride, dilation=dilation, groups=cin, bias=folded), _norm(cin, folded),
        nn.ReLU(inplace=True),
        _conv(cin, cout, 1, bias=folded), _norm(cout, folded), nn.ReLU(inplace=True),
    )


class Cpm(nn.Module):
    """Convolutional pose machine block: 512 backbone channels -> F features (B, F, H/8, W/8)."""

    def __init__(self, cin: int, features: int, variant: Variant) -> None:
        super().__init__()
        hpe = variant == "hpe-0001"
        # the IR applies ELU after align (and after its extra reduce conv); the original code used ReLU
        self.align = nn.Sequential(_conv(cin, features, 1), nn.ELU(inplace=True) if hpe else nn.ReLU(inplace=True))
        self.reduce = nn.Sequential(_conv(features, features, 1), nn.ELU(inplace=True)) if hpe else None
        self.trunk = nn.Sequential(*(
            nn.Sequential(
                _conv(features, features, 3, groups=features, bias=hpe), nn.ELU(inplace=True),
                _conv(features, features, 1, bias=hpe), nn.ELU(inplace=True),
            )
            for _ in range(3)
        ))
        self.conv = nn.Sequential(_conv(features, features, 3), nn.ReLU(inplace=True))

    def forward(self, x: Tensor) -> Tensor:
        aligned = self.align(x)
        trunk_in = self.reduce(aligned) if self.reduce is not None else aligned
        return self.conv(aligned + self.trunk(trunk_in))


def _head(cin: int, hidden: int, cout: int) -> nn.Sequential:
    # the last conv sits in a Sequential of its own, as in the original code, so its key is <head>.1.0
    return nn.Sequential(nn.Sequential(_conv(cin, hidden, 1), nn.ReLU(inplace=True)),
                         nn.Sequential(_conv(hidden, cout, 1)))


class InitialStage(nn.Module):
    """Three 3x3 convs, then a heatmap head and a PAF head (1x1 convs)."""

    def __init__(self, features: int, hidden: int, num_heatmaps: int, num_pafs: int) -> None:
        super().__init__()
        self.trunk = nn.Sequential(*(nn.Sequential(_conv(features, features, 3), nn.ReLU(inplace=True))
                                     for _ in range(3)))
        self.heatmaps = _head(features, hidden, num_heatmaps)
        self.pafs = _head(features, hidden, num_pafs)

    def forward(self, x: Tensor) -> StageOutput:
        trunk = self.trunk(x)
        return StageOutput(self.heatmaps(trunk), self.pafs(trunk))


class RefinementBlock(nn.Module):
    """1x1 conv, then 3x3 and dilated 3x3 convs, added back to the 1x1 output (a residual block)."""

    def __init__(self, cin: int, features: int, folded: bool) -> None:
        super().__init__()
        self.initial = nn.Sequential(_conv(cin, features, 1), nn.ReLU(inplace=True))
        self.trunk = nn.Sequential(
            nn.Sequential(_conv(features, features, 3), _norm(features, folded), nn.ReLU(inplace=True)),
            nn.Sequential(_conv(features, features, 3, dilation=2), _norm(features, folded), nn.ReLU(inplace=True)),
        )

    def forward(self, x: Tensor) -> Tensor:
        initial = self.initial(x)
        return initial + self.trunk(initial)


class RefinementStage(nn.Module):
    """Five residual blocks over concat(features, previous heatmaps, previous PAFs), then the two heads."""

    def __init__(self, cin: int, features: int, num_heatmaps: int, num_pafs: int, folded: bool) -> None:
        super().__init__()
        self.trunk = nn.Sequential(*(RefinementBlock(cin if i == 0 else features, features, folded)
                                     for i in range(REFINEMENT_BLOCKS)))
        self.heatmaps = _head(features, features, num_heatmaps)
        self.pafs = _head(features, features, num_pafs)

    def forward(self, x: Tensor) -> StageOutput:
        trunk = self.trunk(x)
        return StageOutput(self.heatmaps(trunk), self.pafs(trunk))


class LightweightOpenPose(nn.Module):
    """MobileNetV1 + CPM + initial stage + ``num_refinement_stages`` refinement stages (stride 8).

    Args:
        skeleton: keypoint/limb table; heads output ``skeleton.num_heatmaps`` and ``skeleton.num_pafs`` channels.
        variant: ``"hpe-0001"`` (BN folded, as in the Open Model Zoo IR) or ``"original"`` (training-code layout).
        num_refinement_stages: refinement stages after the initial stage (hpe-0001 and the 370k checkpoint have 1).
        width: channel multiplier for every hidden layer (1.0 = published network; smaller for quick experiments).
    """

    stride = 8

    def __init__(self, skeleton: Skeleton = COCO_18, variant: Variant = "hpe-0001", num_refinement_stages: int = 1,
                 width: float = 1.0) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"unknown lightweight variant {variant!r}; expected one of {', '.join(VARIANTS)}")
        if num_refinement_stages < 0:
            raise ValueError(f"num_refinement_stages must be >= 0, got {num_refinement_stages}")
        if not 0 < width < float("inf"):
            raise ValueError(f"width must be a positive number, got {width}")
        self.skeleton = skeleton
        self.variant = variant
        self.width = float(width)
        self.num_refinement_stages = num_refinement_stages
        folded = variant == "hpe-0001"
        stem = _scaled(_STEM_CHANNELS, width)
        blocks: list[nn.Module] = [nn.Sequential(_conv(3, stem, 3, stride=2, bias=folded), _norm(stem, folded),
                                                 nn.ReLU(inplace=True))]
        cin = stem
        for _, cout, stride, dilation in MOBILENET_BLOCKS:
            cout = _scaled(cout, width)
            blocks.append(_depthwise_separable(cin, cout, stride=stride, dilation=dilation, folded=folded))
            cin = cout
        self.model = nn.Sequential(*blocks)
        features = _scaled(_FEATURES, width)
        k1, p = skeleton.num_heatmaps, skeleton.num_pafs
        self.cpm = Cpm(cin, features, variant)
        self.initial_stage = InitialStage(features, _scaled(_INITIAL_HEAD, width), k1, p)
        self.refinement_stages = nn.ModuleList(
            RefinementStage(features + k1 + p, features, k1, p, folded) for _ in range(num_refinement_stages)
        )

    def forward(self, x: Tensor) -> tuple[StageOutput, ...]:
        """x: (B, 3, H, W) normalised image -> one StageOutput per stage, maps (B, C, H/8, W/8)."""
        features = self.cpm(self.model(x))
        stages = [self.initial_stage(features)]
        for stage in self.refinement_stages:
            prev = stages[-1]
            if self.variant == "hpe-0001":
                inputs = (prev.pafs, prev.heatmaps, features)
            else:
                inputs = (features, prev.heatmaps, prev.pafs)
            stages.append(stage(torch.cat(inputs, dim=1)))
        return tuple(stages)


@register("lightweight")
def lightweight(*, variant: Variant = "hpe-0001", num_refinement_stages: int = 1, width: float = 1.0,
                skeleton: Skeleton = COCO_18) -> LightweightOpenPose:
    """Build a Lightweight OpenPose network with random weights (see :class:`LightweightOpenPose`)."""
    return LightweightOpenPose(skeleton, variant, num_refinement_stages, width)
