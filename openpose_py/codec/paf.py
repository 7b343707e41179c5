"""The map convention of a heatmap + Part Affinity Field head, in one frozen object.

What the training targets and the decoder must agree on lives here together: the skeleton (channel layout), the
stride of the maps, the heatmaps' Gaussian sigma, the PAFs' band half-width and the decoder preset the network is
read with. ``encode`` makes the targets (:mod:`.encode`), ``decode`` reads maps back into people
(:mod:`openpose_py.decode`). A :class:`~openpose_py.weights.WeightsSpec` carries its codec, and a weights file
written by ``train`` or ``export`` carries it in its metadata, so training and inference read the same one.

The module itself is free of torch: the weights catalogue builds codecs at import, and ``import openpose_py`` must
stay light; the encoders and the decoder are loaded when first used.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, NamedTuple, Sequence

from ..checks import check_choice, check_number
from ..skeleton import Skeleton, get_skeleton

if TYPE_CHECKING:
    from torch import Tensor

    from ..decode.decoder import Decoded, DecoderConfig
    from ..results import Person

__all__ = ["PafCodec", "HeadMaps", "DECODER_PRESETS", "CODEC_KIND"]

#: The decoder's preset names (``openpose_py.decode.PRESETS``; a test keeps them equal), known here without torch.
DECODER_PRESETS: tuple[str, ...] = ("default", "cvpr2017", "openpose-cpp")
#: The ``kind`` a PAF codec is stored under in a weights file's metadata.
CODEC_KIND = "paf"


class HeadMaps(NamedTuple):
    """A head's maps: heatmaps (..., K+1, h, w) with the background last, PAFs (..., 2L, h, w) in the skeleton's
    channel layout, at the codec's stride."""

    heatmaps: Tensor
    pafs: Tensor


@dataclass(frozen=True, slots=True)
class PafCodec:
    """Heatmaps + PAFs at ``stride`` input pixels per cell (:class:`~openpose_py.grid.MapGrid`).

    Attributes:
        skeleton: keypoints, limbs and the PAF channel layout.
        stride: input pixels per map cell.
        sigma: the heatmap Gaussian's standard deviation, input pixels (the reference training: 7).
        paf_width: the PAF band's half-width, map cells (the reference training: 1).
        decoder: the decoder preset these maps are read with unless told otherwise (:data:`DECODER_PRESETS`).
    """

    skeleton: Skeleton
    stride: int = 8
    sigma: float = 7.0
    paf_width: float = 1.0
    decoder: str = "default"

    def __post_init__(self) -> None:
        if not isinstance(self.skeleton, Skeleton):
            raise TypeError(f"skeleton must be a Skeleton, got {self.skeleton!r}")
        check_number("stride", self.stride, 1, 64, integer=True)
        check_number("sigma", self.sigma, 0.0, 1000.0, low_open=True)
        check_number("paf_width", self.paf_width, 0.0, 1000.0, low_open=True)
        check_choice("decoder", self.decoder, DECODER_PRESETS)

    def map_size(self, input_size: tuple[int, int]) -> tuple[int, int]:
        """(h, w) of the maps of an input of ``input_size`` = (width, height) pixels."""
        return input_size[1] // self.stride, input_size[0] // self.stride

    def encode(self, people: Tensor | Sequence[Person], map_size: tuple[int, int]) -> HeadMaps:
        """The target maps of ``people`` on an (h, w) map grid.

        ``people`` is a float tensor (..., P, K, 3) of x, y, visibility in input pixels (visibility > 0: present;
        what the training data yields), or a sequence of :class:`~openpose_py.results.Person` in input pixels.
        """
        from .encode import encode_heatmaps, encode_pafs

        keypoints = people if hasattr(people, "shape") else self._keypoints(people)
        return HeadMaps(encode_heatmaps(keypoints, map_size, self.stride, self.sigma),
                        encode_pafs(keypoints, self.skeleton, map_size, self.stride, self.paf_width))

    def decode(self, maps: HeadMaps | tuple[Tensor, Tensor], *, config: DecoderConfig | None = None,
               content_size: tuple[float, float] | None = None) -> Decoded:
        """People (and every peak) of one image's maps, in input pixels, with ``config`` or this codec's preset;
        ``content_size`` is the (width, height) of the real content, as :func:`openpose_py.decode.decode` says."""
        from ..decode.decoder import decode

        heatmaps, pafs = maps
        return decode(heatmaps, pafs, self.skeleton, config if config is not None else self.decoder_config(),
                      stride=self.stride, content_size=content_size)

    def decoder_config(self, **overrides: Any) -> DecoderConfig:
        """This codec's decoder preset, with field overrides."""
        from ..decode.decoder import DecoderConfig

        return DecoderConfig.preset(self.decoder, **overrides)

    def replace(self, **changes: Any) -> PafCodec:
        """A copy with some fields changed (checked like a new codec)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (what a weights file's metadata holds), read back by :meth:`from_dict`."""
        return {"kind": CODEC_KIND, "skeleton": self.skeleton.name, "stride": self.stride, "sigma": self.sigma,
                "paf_width": self.paf_width, "decoder": self.decoder}

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> PafCodec:
        """Inverse of :meth:`to_dict`; raises ValueError, KeyError or TypeError for a description it cannot read."""
        if body.get("kind") != CODEC_KIND:
            raise ValueError(f"unknown codec kind {body.get('kind')!r}; known: {CODEC_KIND}")
        fields = {k: v for k, v in body.items() if k != "kind"}
        return cls(**{**fields, "skeleton": get_skeleton(str(body["skeleton"]))})

    def _keypoints(self, people: Sequence[Person]) -> Tensor:
        """(P, K, 3) x, y, visibility of people (1 where a keypoint is present; all zeros where it is missing)."""
        import numpy as np
        import torch

        for person in people:
            if person.skeleton != self.skeleton:
                raise ValueError(f"a {person.skeleton.name} person cannot be encoded by a {self.skeleton.name} codec")
        points = np.zeros((len(people), self.skeleton.num_keypoints, 3), np.float32)
        if people:
            points = np.stack([person.as_array() for person in people])
            points[..., 2] = 1.0
            points[np.isnan(points[..., 0])] = 0.0
        return torch.from_numpy(points)
