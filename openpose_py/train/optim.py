"""What the optimiser moves and how fast: parameter groups, frozen parts, learning-rate schedule.

The reference recipes give the refinement stages ``refinement_mult`` x the learning rate and conv biases a further
x2 without weight decay. Fine-tuning a pretrained network adds two guards (see the README's fine-tuning recipe):
a linear warm-up, so that Adam's first, sign-like steps are small, and frozen parts (batch-norm statistics and
affine parameters, or the whole backbone), which then neither move nor, for batch norm, re-estimate their running
statistics from a few crops.
"""

from __future__ import annotations

from typing import Any, Iterable

import torch
from torch import nn

from ..errors import TrainConfigError
from .config import FREEZE_CHOICES
from .vgg19 import front_end_names

__all__ = ["refinement_parameters", "param_groups", "backbone_parameter_names", "freeze",
           "keep_frozen_norms_in_eval", "make_optimizer", "make_scheduler"]

def refinement_parameters(model: nn.Module, stride: int = 8) -> set[str]:
    """Names of the trainable parameters that do not influence the first stage's output (the refinement stages).

    Found by autograd on a tiny input rather than by layer names, so it holds for every architecture (the CMU
    networks' ``Mconv*_stage2..6``, BODY_25's later PAF and heatmap stages, Lightweight's ``refinement_stages``).
    """
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    device = next(iter(params.values())).device
    was_training = model.training
    model.eval()  # keeps batch-norm running statistics untouched
    try:
        first = model(torch.zeros(1, 3, 4 * stride, 4 * stride, device=device))[0]
        total = sum(t.float().sum() for t in first if t is not None)
        grads = torch.autograd.grad(total, list(params.values()), allow_unused=True)
    finally:
        model.train(was_training)
    return {name for name, g in zip(params, grads) if g is None}


def param_groups(model: nn.Module, lr: float, weight_decay: float, refinement_mult: float) -> list[dict[str, Any]]:
    """Optimiser groups of the reference recipes: refinement stages at ``refinement_mult`` x the learning rate,
    conv biases at a further x2 without weight decay, normalisation and PReLU parameters without weight decay.
    Frozen parameters (``requires_grad`` False) are left out."""
    refinement = refinement_parameters(model)
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for module_name, module in model.named_modules():
        for pname, p in module.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            full = f"{module_name}.{pname}" if module_name else pname
            mult = refinement_mult if full in refinement else 1.0
            if isinstance(module, nn.modules.conv._ConvNd) and pname == "bias":
                key = (2.0 * mult, 0.0)
            elif p.ndim <= 1:
                key = (mult, 0.0)
            else:
                key = (mult, weight_decay)
            groups.setdefault(key, []).append(p)
    return [{"params": ps, "lr": lr * m, "weight_decay": wd} for (m, wd), ps in groups.items()]


def backbone_parameter_names(model: nn.Module) -> set[str]:
    """Parameters of the image feature extractor: the CMU networks' VGG-19 front end (``conv1_1`` .. ``conv4_2``),
    Lightweight's MobileNet (``model.*``)."""
    if getattr(model, "design", None) is not None:
        layers = set(front_end_names(model))
        return {n for n, _ in model.named_parameters() if n.split(".")[0] in layers}
    trunk = getattr(model, "model", None)
    if isinstance(trunk, nn.Module):
        return {f"model.{n}" for n, _ in trunk.named_parameters()}
    raise TrainConfigError(f"cannot tell the backbone of {type(model).__name__}; freeze only 'bn'")


def _norms(model: nn.Module) -> Iterable[nn.Module]:
    return (m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))


def freeze(model: nn.Module, parts: Iterable[str]) -> list[str]:
    """Stop the named ``parts`` (of :data:`FREEZE_CHOICES`) from training; returns the frozen parameter names.

    ``"bn"``: batch-norm affine parameters and running statistics (the modules stay in eval mode, see
    :func:`keep_frozen_norms_in_eval`); ``"backbone"``: every backbone parameter (:func:`backbone_parameter_names`)
    and the running statistics of the batch norms inside it.
    """
    parts = tuple(parts)
    unknown = sorted(set(parts) - set(FREEZE_CHOICES))
    if unknown:
        raise TrainConfigError(f"cannot freeze {', '.join(unknown)}; choose from {', '.join(FREEZE_CHOICES)}")
    names: set[str] = set()
    if "backbone" in parts:
        names |= backbone_parameter_names(model)
    for module_name, module in model.named_modules():
        if not isinstance(module, nn.modules.batchnorm._BatchNorm):
            continue
        own = {f"{module_name}.{n}" for n, _ in module.named_parameters(recurse=False)}
        if "bn" in parts or own <= names:
            names |= own
            module.frozen = True  # type: ignore[attr-defined]  # read by keep_frozen_norms_in_eval
    for name, p in model.named_parameters():
        if name in names:
            p.requires_grad_(False)
    return sorted(names)


def keep_frozen_norms_in_eval(model: nn.Module) -> None:
    """Put the batch norms that :func:`freeze` froze back into eval mode (call after every ``model.train()``):
    in train mode they would replace their running statistics with those of a few training crops."""
    for m in _norms(model):
        if getattr(m, "frozen", False):
            m.eval()


def make_optimizer(model: nn.Module, name: str, lr: float, weight_decay: float, refinement_mult: float,
                   momentum: float) -> torch.optim.Optimizer:
    """Adam or SGD over :func:`param_groups`."""
    groups = param_groups(model, lr, weight_decay, refinement_mult)
    if not groups:
        raise TrainConfigError("every parameter is frozen: nothing to train")
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum)
    return torch.optim.Adam(groups, lr=lr)


def make_scheduler(optimizer: torch.optim.Optimizer, warmup_steps: int, lr_step: int,
                   lr_gamma: float) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up from ``1 / (warmup_steps + 1)`` of each group's rate over ``warmup_steps`` steps, then a
    factor ``lr_gamma`` every ``lr_step`` steps (0: constant)."""

    def factor(step: int) -> float:
        warm = min(1.0, (step + 1) / (warmup_steps + 1)) if warmup_steps > 0 else 1.0
        decay = lr_gamma ** (step // lr_step) if lr_step > 0 else 1.0
        return warm * decay

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
