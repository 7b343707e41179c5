"""Network cost in multiply-accumulates: torch's counter, checked by hand and against the published figure."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from openpose_py.models import create
from openpose_py.models.flops import count_macs, network_macs


def test_counts_every_convolution_by_hand():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1, groups=8),
                        nn.Conv2d(8, 4, 1, stride=2))
    # per output value: in_channels / groups * kernel area; the stride-2 1x1 conv has 8 x 8 outputs per channel
    expected = 16 * 16 * 8 * 3 * 9 + 16 * 16 * 8 * 1 * 9 + 8 * 8 * 4 * 8
    assert count_macs(net, torch.zeros(1, 3, 16, 16)) == expected
    assert count_macs(net, torch.zeros(3, 3, 16, 16)) == 3 * expected


def test_cmu_coco_costs_the_published_135_9_gmacs():
    # the figure for the CMU COCO network at 368x368
    assert network_macs("cmu-coco", 368, 368) / 1e9 == pytest.approx(135.9, abs=0.05)
    assert network_macs("cmu-coco", 368, 368, batch=2) == 2 * network_macs("cmu-coco", 368, 368)


def test_meta_count_equals_the_count_of_a_real_pass():
    real = create("lightweight").eval()
    assert network_macs("lightweight", 64, 96) == count_macs(real, torch.zeros(1, 3, 64, 96))
    assert network_macs("lightweight", 368, 496) / 1e9 == pytest.approx(12.02, abs=0.01)


def test_rejects_empty_inputs():
    with pytest.raises(ValueError, match="at least 1x1"):
        network_macs("lightweight", 0, 64)
