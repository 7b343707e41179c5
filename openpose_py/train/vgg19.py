"""ImageNet initialisation of the CMU networks' VGG-19 front end from torchvision's VGG-19."""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ArchitectureMismatchError, WeightsError

__all__ = ["load_imagenet_vgg19", "copy_vgg19_front_end", "front_end_names"]


def load_imagenet_vgg19(model: nn.Module) -> None:
    """Initialise a CMU network's VGG-19 front end (``conv1_1`` .. ``conv4_2``) from torchvision's ImageNet VGG-19.

    torchvision's network reads RGB normalised with ImageNet statistics; ours reads BGR as ``pixel / 256 - 0.5``.
    The first conv is adapted so both see the same image: input channels reversed, scaled by ``1 / std`` and the
    mean offset folded into the bias.

    Raises:
        WeightsError: torchvision is not installed, or its weights cannot be downloaded.
    """
    front_end_names(model)  # refuse a network without a VGG-19 front end before looking for torchvision
    try:
        import torchvision
    except ImportError as exc:
        raise WeightsError("ImageNet initialisation of the VGG-19 front end needs torchvision: "
                           "pip install 'openpose-py[vgg-init]'") from exc
    try:
        vgg = torchvision.models.vgg19(weights=torchvision.models.VGG19_Weights.IMAGENET1K_V1)
    except Exception as exc:  # noqa: BLE001 - network and cache errors come in many types
        raise WeightsError(f"cannot obtain torchvision's ImageNet VGG-19 weights ({exc}); use --init scratch or a "
                           "weights file") from exc
    copy_vgg19_front_end(model, vgg.features)


def front_end_names(model: nn.Module) -> list[str]:
    """The VGG-19 convs (``conv1_1`` .. ``conv4_2``) of a CMU network, in order."""
    design = getattr(model, "design", None)
    if design is None:
        raise WeightsError("ImageNet VGG-19 initialisation only applies to the CMU networks (VGG-19 front end)")
    return [layer.name for layer in design.backbone if not isinstance(layer, str) and "_CPM" not in layer.name]


def copy_vgg19_front_end(model: nn.Module, features: nn.Sequential,
                         mean: tuple[float, float, float] = (0.485, 0.456, 0.406),
                         std: tuple[float, float, float] = (0.229, 0.224, 0.225)) -> None:
    """Copy the convolutions of a torchvision-layout VGG-19 ``features`` stack into a CMU network's front end.

    ``mean``/``std`` are the RGB statistics (on a 0-1 scale) that ``features`` was trained with.
    """
    ours = front_end_names(model)
    theirs = [m for m in features if isinstance(m, nn.Conv2d)]
    if len(theirs) < len(ours):
        raise ArchitectureMismatchError(f"the VGG stack has {len(theirs)} convs, the front end needs {len(ours)}")
    with torch.no_grad():
        for i, (name, src) in enumerate(zip(ours, theirs)):
            dst = getattr(model, name)
            if dst.weight.shape != src.weight.shape:
                raise ArchitectureMismatchError(f"{name}: shape {tuple(dst.weight.shape)} but the VGG conv has "
                                                f"{tuple(src.weight.shape)}")
            weight, bias = src.weight.detach().clone(), src.bias.detach().clone()
            if i == 0:
                m = torch.tensor(mean, dtype=weight.dtype)
                s = torch.tensor(std, dtype=weight.dtype)
                # theirs: w . (x/255 - m) / s; ours: w' . (x/256 - 0.5) with x/256 ~ x/255 -> w' = w / s, b absorbs
                # the offset (0.5 - m) / s
                weight = weight / s[None, :, None, None]
                bias = bias + (weight * (0.5 - m)[None, :, None, None]).sum(dim=(1, 2, 3))
                weight = weight.flip(1)  # RGB -> BGR input channels
            dst.weight.copy_(weight)
            dst.bias.copy_(bias)
