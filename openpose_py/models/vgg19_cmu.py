"""The CMU OpenPose networks: VGG-19 front end + multi-stage CNN (Cao et al., CVPR 2017 and TPAMI 2019).

Three published designs, each matching its official prototxt layer by layer:

- ``"cmu-coco"`` (COCO-18, ``pose/coco/pose_deploy_linevec.prototxt``) and ``"cmu-mpi"`` (MPI-15, ``pose/mpi/...``):
  six stages of two parallel branches, ``_L1`` = PAFs and ``_L2`` = heatmaps; stage 1 reads the features F, stages
  2-6 read ``concat[PAFs, heatmaps, F]``.
- ``"cmu-body25"`` (BODY_25, ``pose/body_25/pose_deploy.prototxt``): four PAF-only stages, then two heatmap-only
  stages (here ``_L2`` = PAFs and ``_L1`` = heatmaps). A stage is five blocks of three chained 3x3 convs whose outputs
  are concatenated, PReLU activations. PAF stage 0 reads F, PAF stages 1-3 ``concat[F, PAFs]``, heatmap stage 0
  ``concat[F, PAFs]``, heatmap stage 1 ``concat[F, heatmaps, PAFs]``.

Every Caffe layer with a PyTorch counterpart (Convolution, ReLU, PReLU, Pooling) is a direct child module named
after the Caffe layer and registered in prototxt order, so the state_dict keys are exactly the Caffe names
(``conv1_1.weight`` ... ``Mconv7_stage6_L2.bias``, ``prelu4_2.weight``) and the widely used ``body_pose_model.pth``
loads with ``strict=True``. Concat layers have no module. The last conv of every branch has no activation.

Input: (B, 3, H, W) image normalised as ``pixel / 256 - 0.5`` (BGR). Output: one
:class:`~openpose_py.models.outputs.StageOutput` per stage, heatmaps (B, K+1, H/8, W/8) and PAFs (B, 2L, H/8, W/8);
BODY_25 stages hold None for the branch they do not predict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from ..skeleton import BODY_25, COCO_18, MPI_15, Skeleton
from . import register
from .outputs import StageOutput

__all__ = [
    "ConvDesign", "BranchDesign", "StageDesign", "CMUDesign", "CMUPoseNet", "two_branch_design", "body25_design",
    "cmu_coco", "cmu_body25", "cmu_mpi", "CMU_ARCHITECTURES",
]

Activation = Literal["relu", "prelu"]
MapKind = Literal["features", "pafs", "heatmaps"]

#: Registry names of the networks defined here.
CMU_ARCHITECTURES: tuple[str, ...] = ("cmu-coco", "cmu-body25", "cmu-mpi")


@dataclass(frozen=True, slots=True)
class ConvDesign:
    """A Caffe Convolution layer (stride 1, padding ``kernel // 2``) and the activation layer that follows it."""

    name: str
    out_channels: int
    kernel: int
    activation: Activation | None = None

    @property
    def activation_name(self) -> str | None:
        # Caffe's naming rule in all three prototxts: conv4_2 -> relu4_2 / prelu4_2, Mconv1_stage0_L2_0 -> Mprelu1_...
        return self.name.replace("conv", self.activation, 1) if self.activation else None


#: A block is one conv, or (BODY_25) a chain of convs whose outputs are concatenated into the block output.
Block = tuple[ConvDesign, ...]


@dataclass(frozen=True, slots=True)
class BranchDesign:
    """One branch of a stage: the map it predicts and its blocks in order."""

    output: Literal["pafs", "heatmaps"]
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class StageDesign:
    """One stage: the maps concatenated (in this order) into its input, and its parallel branches."""

    inputs: tuple[MapKind, ...]
    branches: tuple[BranchDesign, ...]


@dataclass(frozen=True, slots=True)
class CMUDesign:
    """A whole network: front end (ConvDesign, or the name of a 2x2 stride-2 max-pool layer) and stages."""

    skeleton: Skeleton
    backbone: tuple[ConvDesign | str, ...]
    stages: tuple[StageDesign, ...]


# VGG-19 conv1_1 .. conv4_2 plus the two CPM convs that reduce its 512 channels to the 128 features F.
_FRONT_END: tuple[tuple[str, int] | str, ...] = (
    ("conv1_1", 64), ("conv1_2", 64), "pool1_stage1", ("conv2_1", 128), ("conv2_2", 128), "pool2_stage1",
    ("conv3_1", 256), ("conv3_2", 256), ("conv3_3", 256), ("conv3_4", 256), "pool3_stage1",
    ("conv4_1", 512), ("conv4_2", 512), ("conv4_3_CPM", 256), ("conv4_4_CPM", 128),
)


def _front_end(prelu_from: str | None = None) -> tuple[ConvDesign | str, ...]:
    """The front end with ReLU activations, PReLU from layer ``prelu_from`` on (BODY_25 switches at conv4_2)."""
    layers: list[ConvDesign | str] = []
    act: Activation = "relu"
    for layer in _FRONT_END:
        if isinstance(layer, str):
            layers.append(layer)
            continue
        name, channels = layer
        act = "prelu" if name == prelu_from else act
        layers.append(ConvDesign(name, channels, 3, act))
    return tuple(layers)


def _chain(names: list[str], shape: tuple[tuple[int, int], ...], activation: Activation) -> tuple[Block, ...]:
    """Single-conv blocks ``(out_channels, kernel)``, activation after all but the last (the branch output)."""
    return tuple((ConvDesign(name, c, k, activation if i < len(shape) - 1 else None),)
                 for i, (name, (c, k)) in enumerate(zip(names, shape, strict=True)))


def two_branch_design(skeleton: Skeleton = COCO_18, stages: int = 6) -> CMUDesign:
    """The CVPR 2017 design (COCO-18 and MPI-15 networks): ``stages`` stages of a PAF and a heatmap branch."""
    branches = (("L1", "pafs", skeleton.num_pafs), ("L2", "heatmaps", skeleton.num_heatmaps))
    first = StageDesign(("features",), tuple(
        BranchDesign(kind, _chain([f"conv5_{i}_CPM_{b}" for i in range(1, 6)],
                                ((128, 3), (128, 3), (128, 3), (512, 1), (n, 1)), "relu"))
        for b, kind, n in branches
    ))
    later = tuple(
        StageDesign(("pafs", "heatmaps", "features"), tuple(
            BranchDesign(kind, _chain([f"Mconv{i}_stage{t}_{b}" for i in range(1, 8)],
                                    ((128, 7),) * 5 + ((128, 1), (n, 1)), "relu"))
            for b, kind, n in branches
        ))
        for t in range(2, stages + 1)
    )
    return CMUDesign(skeleton, _front_end(), (first, *later))


_BODY25_PAF_STAGES = 4
_BODY25_HEATMAP_STAGES = 2
_BODY25_BLOCKS = 5
_BODY25_CHAIN = 3  # convs per block


def _dense_branch(stage: int, suffix: str, kind: Literal["pafs", "heatmaps"], out: int) -> BranchDesign:
    # the first stage of each kind is narrower (96-channel convs, 256-channel 1x1) than the later ones (128, 512)
    width, hidden = (96, 256) if stage == 0 else (128, 512)
    blocks = tuple(
        tuple(ConvDesign(f"Mconv{i}_stage{stage}_{suffix}_{j}", width, 3, "prelu") for j in range(_BODY25_CHAIN))
        for i in range(1, _BODY25_BLOCKS + 1)
    )
    head = _chain([f"Mconv6_stage{stage}_{suffix}", f"Mconv7_stage{stage}_{suffix}"], ((hidden, 1), (out, 1)), "prelu")
    return BranchDesign(kind, blocks + head)


def body25_design(skeleton: Skeleton = BODY_25) -> CMUDesign:
    """The BODY_25 design (TPAMI 2019): PAF stages first, then heatmap stages refined from the final PAFs."""
    pafs = tuple(
        StageDesign(("features",) if s == 0 else ("features", "pafs"),
                  (_dense_branch(s, "L2", "pafs", skeleton.num_pafs),))
        for s in range(_BODY25_PAF_STAGES)
    )
    heatmaps = tuple(
        StageDesign(("features", "pafs") if s == 0 else ("features", "heatmaps", "pafs"),
                  (_dense_branch(s, "L1", "heatmaps", skeleton.num_heatmaps),))
        for s in range(_BODY25_HEATMAP_STAGES)
    )
    return CMUDesign(skeleton, _front_end(prelu_from="conv4_2"), pafs + heatmaps)


class CMUPoseNet(nn.Module):
    """A CMU OpenPose network built from a :class:`CMUDesign`; children are the Caffe layers, named and ordered as
    in the prototxt (branches of a stage interleaved block by block, as the CVPR 2017 prototxts list them).

    ``forward``: (B, 3, H, W) normalised image -> ``tuple[StageOutput, ...]``, one per stage, maps at H/8 x W/8.
    """

    stride = 8

    def __init__(self, design: CMUDesign) -> None:
        super().__init__()
        self.design = design
        self.skeleton = design.skeleton
        channels = 3
        for layer in design.backbone:
            if isinstance(layer, str):
                # Caffe rounds pooled sizes up; identical to floor for the multiple-of-8 inputs OpenPose feeds it
                self.add_module(layer, nn.MaxPool2d(2, 2, ceil_mode=True))
            else:
                channels = self._add_conv(layer, channels)
        widths = {"features": channels, "pafs": self.skeleton.num_pafs, "heatmaps": self.skeleton.num_heatmaps}
        for stage in design.stages:
            branch_channels = [sum(widths[k] for k in stage.inputs)] * len(stage.branches)
            for blocks in zip(*(b.blocks for b in stage.branches), strict=True):
                for i, block in enumerate(blocks):
                    cin, outs = branch_channels[i], []
                    for conv in block:
                        cin = self._add_conv(conv, cin)
                        outs.append(cin)
                    branch_channels[i] = sum(outs)
            for branch, out in zip(stage.branches, branch_channels):
                if out != widths[branch.output]:
                    raise ValueError(f"branch ending in {branch.blocks[-1][-1].name} gives {out} channels, "
                                     f"{self.skeleton.name} needs {widths[branch.output]} {branch.output}")
        self.reset_parameters()

    def _add_conv(self, conv: ConvDesign, cin: int) -> int:
        self.add_module(conv.name, nn.Conv2d(cin, conv.out_channels, conv.kernel, padding=conv.kernel // 2))
        if conv.activation == "relu":
            self.add_module(conv.activation_name, nn.ReLU(inplace=True))
        elif conv.activation == "prelu":
            self.add_module(conv.activation_name, nn.PReLU(conv.out_channels))
        return conv.out_channels

    def reset_parameters(self) -> None:
        """Caffe training initialisation of the CMU prototxts: conv weights N(0, 0.01), biases 0, PReLU slopes 0.25."""
        for module in self.children():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, std=0.01)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.PReLU):
                nn.init.constant_(module.weight, 0.25)

    def _conv(self, conv: ConvDesign, x: Tensor) -> Tensor:
        x = self._modules[conv.name](x)
        return self._modules[conv.activation_name](x) if conv.activation else x

    def forward(self, x: Tensor) -> tuple[StageOutput, ...]:
        """x: (B, 3, H, W) -> one StageOutput per stage with heatmaps (B, K+1, H/8, W/8) and PAFs (B, 2L, H/8, W/8)."""
        for layer in self.design.backbone:
            x = self._modules[layer](x) if isinstance(layer, str) else self._conv(layer, x)
        maps: dict[str, Tensor] = {"features": x}
        outputs = []
        for stage in self.design.stages:
            inputs = [maps[k] for k in stage.inputs]
            stage_input = torch.cat(inputs, dim=1) if len(inputs) > 1 else inputs[0]
            produced: dict[str, Tensor] = {}
            for branch in stage.branches:
                y = stage_input
                for block in branch.blocks:
                    parts = []
                    for conv in block:
                        y = self._conv(conv, y)
                        parts.append(y)
                    y = torch.cat(parts, dim=1) if len(parts) > 1 else y
                produced[branch.output] = y
            maps.update(produced)
            outputs.append(StageOutput(produced.get("heatmaps"), produced.get("pafs")))
        return tuple(outputs)


@register("cmu-coco")
def cmu_coco(*, skeleton: Skeleton = COCO_18) -> CMUPoseNet:
    """CMU COCO-18 network (52.31 M parameters) with random weights."""
    return CMUPoseNet(two_branch_design(skeleton))


@register("cmu-mpi")
def cmu_mpi(*, skeleton: Skeleton = MPI_15) -> CMUPoseNet:
    """CMU MPI-15 network (the COCO design with MPI's 16 heatmaps and 28 PAFs) with random weights."""
    return CMUPoseNet(two_branch_design(skeleton))


@register("cmu-body25")
def cmu_body25(*, skeleton: Skeleton = BODY_25) -> CMUPoseNet:
    """CMU BODY_25 network (26.17 M parameters) with random weights."""
    return CMUPoseNet(body25_design(skeleton))
