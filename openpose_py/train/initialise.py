"""The network a run trains, built from a registered entry and initialised (pretrained, ImageNet, scratch or a file),
and the weights spec its exported weights carry."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .. import models
from ..errors import ArchitectureMismatchError, WeightsError, first_line
from ..weights import WeightsSpec, get_spec
from ..weights.shapes import check_finite
from .checkpoint import is_training_checkpoint, load_checkpoint
from .config import TrainConfig, TrainConfigError
from .vgg19 import load_imagenet_vgg19

__all__ = ["build_model", "load_state"]


def _export_spec(spec: WeightsSpec, config: TrainConfig, arch_kwargs: dict[str, Any]) -> WeightsSpec:
    return dataclasses.replace(
        spec,
        name=f"{spec.name}-trained",
        arch_kwargs=tuple(sorted(arch_kwargs.items())),
        sources=(),
        aliases=(),
        published="",
        description=f"{spec.name} trained with openpose-py (init: {config.init}) on {config.annotations.name}",
        extra=(*spec.extra, ("trained_from", spec.name)),
    )


def build_model(config: TrainConfig, *, load_init: bool = True) -> tuple[nn.Module, WeightsSpec]:
    """The network to train and the weights spec its exported weights will carry.

    The network is built with the spec's builder options overridden by ``config.arch_options`` and seeded random
    weights, then initialised as ``config.init`` says (unless ``load_init`` is False: a resumed run loads its own).
    """
    try:
        spec = get_spec(config.model)
    except KeyError as exc:
        raise TrainConfigError(str(exc.args[0])) from exc
    arch_kwargs = {**spec.builder_kwargs, **dict(config.arch_options)}
    torch.manual_seed(config.seed)
    try:
        model = models.create(spec.architecture, **arch_kwargs)
    except (TypeError, ValueError, OverflowError) as exc:  # an unknown keyword, a value the builder refuses
        raise TrainConfigError(f"invalid network options {dict(config.arch_options)} for {spec.architecture}: "
                               f"{first_line(exc)}") from exc
    if load_init and config.init != "scratch":
        if config.init == "imagenet":
            load_imagenet_vgg19(model)
        else:
            load_state(model, _init_state(config), config.init)
    return model, _export_spec(spec, config, arch_kwargs)


def _init_state(config: TrainConfig) -> dict[str, Tensor]:
    from ..weights import load_model

    if config.init == "pretrained":
        return load_model(config.model)[0].state_dict()
    path = Path(config.init)
    if not path.exists():
        raise WeightsError(f"--init {config.init!r} is neither one of pretrained, imagenet, scratch nor an existing "
                           "file")
    if path.is_dir() or is_training_checkpoint(path):
        return load_checkpoint(path)["model"]
    return load_model(path, architecture=get_spec(config.model).architecture)[0].state_dict()


def load_state(model: nn.Module, state: dict[str, Tensor], source: str) -> None:
    check_finite(state, source)  # a diverged run's checkpoint, say
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ArchitectureMismatchError(f"the weights from {source} do not fit the network being trained: "
                                        f"{first_line(exc)}") from exc
