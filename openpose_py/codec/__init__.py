"""Codecs: one object per network head that holds the convention its maps follow (skeleton, stride, target widths,
default decoder) and turns people into target maps (``encode``) and maps back into people (``decode``).

``PafCodec`` is the heatmaps + Part Affinity Fields head of every network here. Importing this package loads no
torch; the encoders (:mod:`.encode`) and the decoder load when first used.
"""

from __future__ import annotations

from .paf import CODEC_KIND, DECODER_PRESETS, HeadMaps, PafCodec

__all__ = ["PafCodec", "HeadMaps", "DECODER_PRESETS", "CODEC_KIND"]
