"""What a set of weights is: :class:`WeightsSpec` (architecture, skeleton, pre-processing, map convention, licence,
sources). Its JSON form in a weights file's metadata is :mod:`.metadata`'s."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from ..checks import check_choice, check_number
from ..codec import PafCodec
from ..skeleton import Skeleton

__all__ = ["PreprocessSpec", "WeightsSource", "WeightsSpec"]

ChannelOrder = Literal["BGR", "RGB"]
Padding = Literal["bottom_right", "center"]
Interpolation = Literal["linear", "cubic", "area"]


@dataclass(frozen=True, slots=True)
class PreprocessSpec:
    """How a weights file expects its input.

    ``normalised = (pixel - mean) / std`` on BGR (or RGB) uint8 pixels; the image is resized (aspect kept) so its
    height is ``height`` times the scale, then padded with the pixel value ``pad_value`` (0-255) to a multiple of
    ``stride`` (at the bottom and right, or centred).
    """

    mean: float = 128.0
    std: float = 256.0
    channel_order: ChannelOrder = "BGR"
    height: int = 368
    stride: int = 8
    pad_value: float = 128.0
    pad: Padding = "bottom_right"
    interpolation: Interpolation = "cubic"

    def __post_init__(self) -> None:
        check_number("mean", self.mean, -1e6, 1e6)
        check_number("std", self.std, 0.0, 1e6, low_open=True)
        check_choice("channel_order", self.channel_order, get_args(ChannelOrder))
        check_number("height", self.height, 1, integer=True)
        check_number("stride", self.stride, 1, 64, integer=True)
        check_number("pad_value", self.pad_value, 0.0, 255.0)
        check_choice("pad", self.pad, get_args(Padding))
        check_choice("interpolation", self.interpolation, get_args(Interpolation))


@dataclass(frozen=True, slots=True)
class WeightsSource:
    """One file a weights entry can be built from.

    ``format`` says how to read it: ``"state_dict"`` (torch, weights_only), ``"safetensors"``, ``"openvino_ir"``
    (an ``.xml`` whose ``.bin`` sits beside it, listed as a companion source), ``"caffemodel"``.
    A companion source belongs to the nearest non-companion source listed before it. ``sha256 == ""`` means no hash
    is published: such a file is used, with a warning that it cannot be verified.
    """

    filename: str
    sha256: str
    size: int | None = None
    url: str | None = None
    format: str = "state_dict"
    companion: bool = False  # a file needed beside another source (an IR's .bin), not loadable on its own


@dataclass(frozen=True, slots=True)
class WeightsSpec:
    """A registered set of pretrained weights and everything needed to use them.

    ``codec`` is the convention of the network's maps (:class:`~openpose_py.codec.PafCodec`): what it was trained to
    give and how it is decoded. Left out, it is the reference one for the entry's skeleton and stride (sigma 7, PAF
    half-width 1, the default decoder); it must agree with the skeleton and the pre-processing's stride.
    """

    name: str
    architecture: str  # name in openpose_py.models
    skeleton: Skeleton
    preprocess: PreprocessSpec
    license: str
    description: str
    sources: tuple[WeightsSource, ...] = ()
    arch_kwargs: tuple[tuple[str, Any], ...] = ()  # builder keyword arguments (frozen as pairs)
    aliases: tuple[str, ...] = ()
    published: str = ""  # where a person obtains the file by hand (page or download script)
    extra: tuple[tuple[str, Any], ...] = field(default=())  # provenance and notes, e.g. ("trained_from", name)
    codec: PafCodec = None  # type: ignore[assignment]  # None: the reference codec of skeleton and stride

    def __post_init__(self) -> None:
        if self.codec is None:
            object.__setattr__(self, "codec", PafCodec(self.skeleton, self.preprocess.stride))
        elif self.codec.skeleton != self.skeleton or self.codec.stride != self.preprocess.stride:
            raise ValueError(f"weights {self.name!r}: the codec's {self.codec.skeleton.name} maps at stride "
                             f"{self.codec.stride} do not match the entry's {self.skeleton.name} at stride "
                             f"{self.preprocess.stride}")

    @property
    def builder_kwargs(self) -> dict[str, Any]:
        return dict(self.arch_kwargs)
