"""scripts/int8_layers.py: the shipped IR's quantised convolutions with their cost, and the shifted evaluation's
estimator, which must report people where they are in the unshifted image."""

from __future__ import annotations

import pytest

from ..conftest import MEDIA_PHOTO, SHARED, require_shared
from .conftest import load_script

IR = SHARED / "weights" / "hpe-0001" / "human-pose-estimation-0001.xml"


def test_every_quantised_convolution_is_listed_with_its_cost():
    require_shared(IR)
    from openpose_py.backends import INT8_FLOAT_LAYERS

    layers = dict(load_script("int8_layers").quantised_convolutions(IR))
    assert len(layers) == 58 and set(INT8_FLOAT_LAYERS) <= set(layers)
    # a 3x3 convolution from 3 to 32 channels at stride 2 on 256x456: 27 x 32 x 128 x 228 multiply-adds
    assert layers["conv1"] == pytest.approx(27 * 32 * 128 * 228 / 1e9)
    assert layers["conv2_1/dw"] == pytest.approx(9 * 32 * 128 * 228 / 1e9)  # depthwise: one input channel each
    assert 7.0 < sum(layers.values()) < 8.5


def test_a_shifted_estimator_reports_people_in_the_original_pixels(lightweight_estimator):
    require_shared(MEDIA_PHOTO)
    from openpose_py.images import load_image

    image = load_image(MEDIA_PHOTO)
    plain = lightweight_estimator(image)
    shifted = load_script("int8_layers").Shifted(lightweight_estimator, 3, 2)(image)
    assert len(shifted) == len(plain) == 4
    offsets = []
    for a, b in zip(sorted(plain, key=lambda p: -p.score), sorted(shifted, key=lambda p: -p.score)):
        offsets += [(m.x - k.x, m.y - k.y) for k, m in zip(a.keypoints, b.keypoints) if k is not None and m is not None]
    # the same places give or take the network's own sub-cell noise (a person moves by up to 2 px either way), on
    # average where they were: not 3 px to the right and 2 down (no correction), nor as far the other way (twice)
    assert len(offsets) >= 30
    assert abs(sum(dx for dx, _ in offsets) / len(offsets)) < 1.2
    assert abs(sum(dy for _, dy in offsets) / len(offsets)) < 1.0
