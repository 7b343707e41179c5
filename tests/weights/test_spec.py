"""WeightsSpec and PreprocessSpec: an entry always has a codec that agrees with it; impossible pre-processing is
refused in one line."""

from __future__ import annotations

import dataclasses
import re

import pytest

from openpose_py.codec import PafCodec
from openpose_py.skeleton import BODY_25, COCO_18
from openpose_py.weights import PreprocessSpec, WeightsSpec


def _spec(**changes) -> WeightsSpec:
    return WeightsSpec(**{"name": "t", "architecture": "lightweight", "skeleton": COCO_18,
                          "preprocess": PreprocessSpec(), "license": "", "description": "", **changes})


def test_an_entry_without_a_codec_gets_the_reference_one_and_a_disagreeing_codec_is_refused():
    assert _spec().codec == PafCodec(COCO_18, stride=8, sigma=7.0, paf_width=1.0, decoder="default")
    assert _spec(preprocess=PreprocessSpec(stride=4)).codec.stride == 4
    wide = PafCodec(COCO_18, paf_width=2.0)
    assert _spec(codec=wide).codec is wide
    for codec in (PafCodec(BODY_25), PafCodec(COCO_18, stride=4)):
        with pytest.raises(ValueError, match="^weights 't': the codec's .* do not match the entry's COCO_18 at "
                                             "stride 8$"):
            _spec(codec=codec)
    assert dataclasses.replace(_spec(), name="u").codec == _spec().codec


@pytest.mark.parametrize("field, value, message", [
    ("std", 0.0, "std must be a number in (0, 1e+06], got 0.0"),
    ("mean", float("nan"), "mean must be a number in [-1e+06, 1e+06], got nan"),
    ("channel_order", "bgr", "channel_order must be one of BGR, RGB, got 'bgr'"),
    ("height", 0, "height must be an integer >= 1, got 0"),
    ("stride", 8.0, "stride must be an integer in [1, 64], got 8.0"),
    ("pad_value", 300, "pad_value must be a number in [0, 255], got 300"),
    ("pad", "top", "pad must be one of bottom_right, center, got 'top'"),
    ("interpolation", "nearest", "interpolation must be one of linear, cubic, area, got 'nearest'"),
])
def test_impossible_preprocessing_is_refused(field, value, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        PreprocessSpec(**{field: value})
