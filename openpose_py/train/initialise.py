"""The network a run trains, built from a registered entry and initialised (pretrained, ImageNet, scratch or a file),
and the weights spec its exported weights carry."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .. import models
from ..codec import PafCodec
from ..errors import ArchitectureMismatchError, WeightsError, first_line
from ..weights import WeightsSpec, get_spec
from ..weights.shapes import check_finite
from .checkpoint import is_training_checkpoint, load_checkpoint
from .config import TrainConfig, TrainConfigError
from .vgg19 import load_imagenet_vgg19

__all__ = ["build_model", "load_state", "training_codec", "stored_codec"]

log = logging.getLogger(__name__)


def _export_spec(spec: WeightsSpec, config: TrainConfig, arch_kwargs: dict[str, Any], codec: PafCodec) -> WeightsSpec:
    return dataclasses.replace(
        spec,
        name=f"{spec.name}-trained",
        arch_kwargs=tuple(sorted(arch_kwargs.items())),
        sources=(),
        aliases=(),
        published="",
        description=f"{spec.name} trained with openpose-py (init: {config.init}) on {config.annotations.name}",
        extra=(*spec.extra, ("trained_from", spec.name)),
        codec=codec,
    )


def training_codec(config: TrainConfig, initial: PafCodec) -> PafCodec:
    """The codec a run encodes its targets with, and its weights carry: the initial network's, with the sigma and PAF
    width the configuration sets (a warning says when they differ from what a trained initial network learnt)."""
    changes = {name: getattr(config, name) for name in ("sigma", "paf_width") if getattr(config, name) is not None}
    codec = initial.replace(**changes)
    if codec != initial and config.starts_trained:
        log.warning("training targets with sigma %g and PAF width %g, where the initial network learnt %g and %g: "
                    "its first steps unlearn the difference", codec.sigma, codec.paf_width, initial.sigma,
                    initial.paf_width)
    return codec


def build_model(config: TrainConfig, *, load_init: bool = True,
                codec: PafCodec | None = None) -> tuple[nn.Module, WeightsSpec]:
    """The network to train and the weights spec its exported weights will carry.

    The network is built with the spec's builder options overridden by ``config.arch_options`` and seeded random
    weights, then initialised as ``config.init`` says (unless ``load_init`` is False: a resumed run loads its own).
    The spec's codec is :func:`training_codec` of ``codec`` (a resumed run's), else of the initial weights file's,
    else of the registered entry's.
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
            state, init_codec = _init_state(config)
            load_state(model, state, config.init)
            codec = codec or init_codec
    return model, _export_spec(spec, config, arch_kwargs, training_codec(config, codec or spec.codec))


def _init_state(config: TrainConfig) -> tuple[dict[str, Tensor], PafCodec | None]:
    """The initial weights, and the codec the file carries (None where it holds none)."""
    from ..weights import load_model

    if config.init == "pretrained":
        model, spec = load_model(config.model)
        return model.state_dict(), spec.codec
    path = Path(config.init)
    if not path.exists():
        raise WeightsError(f"--init {config.init!r} is neither one of pretrained, imagenet, scratch nor an existing "
                           "file")
    if path.is_dir() or is_training_checkpoint(path):
        state = load_checkpoint(path)
        return state["model"], stored_codec(state, str(path))
    model, spec = load_model(path, architecture=get_spec(config.model).architecture)
    if spec.skeleton != get_spec(config.model).skeleton:
        return model.state_dict(), None  # load_state refuses it with the shapes that differ
    return model.state_dict(), spec.codec


def stored_codec(state: dict[str, Any], source: str) -> PafCodec | None:
    """The codec a training checkpoint records (None for one written before checkpoints held it)."""
    if "codec" not in state:
        return None
    try:
        return PafCodec.from_dict(state["codec"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WeightsError(f"{source}: invalid codec in the checkpoint ({first_line(exc)})") from None


def load_state(model: nn.Module, state: dict[str, Tensor], source: str) -> None:
    check_finite(state, source)  # a diverged run's checkpoint, say
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ArchitectureMismatchError(f"the weights from {source} do not fit the network being trained: "
                                        f"{first_line(exc)}") from exc
