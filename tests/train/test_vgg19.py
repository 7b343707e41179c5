"""ImageNet VGG-19 initialisation of the CMU front end."""

from __future__ import annotations

import sys

import pytest
import torch
from torch import nn

from openpose_py import models
from openpose_py.errors import WeightsError
from openpose_py.train.vgg19 import copy_vgg19_front_end, load_imagenet_vgg19


def test_imagenet_init_needs_torchvision(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torchvision", None)  # as if not installed
    with pytest.raises(WeightsError, match=r"pip install 'openpose-py\[vgg-init\]'"):
        load_imagenet_vgg19(models.create("cmu-coco"))
    with pytest.raises(WeightsError, match="only applies to the CMU networks"):
        load_imagenet_vgg19(models.create("lightweight", width=0.25))


def test_vgg_front_end_copy_sees_the_same_image() -> None:
    """With the first conv adapted, our BGR x/256-0.5 input gives torchvision's RGB ImageNet-normalised response."""
    torch.manual_seed(0)
    cmu = models.create("cmu-coco")
    widths = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M"]
    layers: list[nn.Module] = []
    cin = 3
    for w in widths:
        if w == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(cin, w, 3, padding=1), nn.ReLU()]
            cin = w
    vgg = nn.Sequential(*layers)
    copy_vgg19_front_end(cmu, vgg)
    assert torch.equal(cmu.conv4_2.weight, vgg[21].weight) and torch.equal(cmu.conv3_4.bias, vgg[16].bias)
    image = torch.randint(0, 256, (1, 3, 16, 16)).float()  # BGR pixels
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    theirs = vgg[0]((image.flip(1) / 255 - mean[:, None, None]) / std[:, None, None])
    ours = cmu.conv1_1(image / 256 - 0.5)
    # interior pixels (zero padding differs); the remaining gap is 255 vs 256 in the scaling
    torch.testing.assert_close(ours[..., 1:-1, 1:-1], theirs[..., 1:-1, 1:-1], rtol=0.02, atol=0.02)
    with pytest.raises(WeightsError, match="CMU"):
        copy_vgg19_front_end(models.create("lightweight", width=0.25), vgg)
