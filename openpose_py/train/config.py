"""Training configuration: one frozen dataclass, readable from a JSON or TOML file and stored in checkpoints."""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..data.coco import DatasetConfig
from ..data.transforms import AugmentConfig
from ..errors import TrainConfigError
from ..checks import check_all, check_finite

__all__ = ["TrainConfig", "TrainConfigError", "load_config_file", "overlay_options", "check_option_types",
           "INIT_CHOICES", "OPTIMIZERS", "FREEZE_CHOICES", "RECIPES", "MAX_SEED", "DEVICE_PATTERN"]

#: The seeds numpy's generators take (the data order and the augmentation draws come from them).
MAX_SEED = 2**32 - 1
#: The devices a run can train on (``cuda`` alone: each process's local GPU).
DEVICE_PATTERN = r"cpu|cuda(:[0-9]+)?|mps"
_FLOAT32_MAX = 3.4028234663852886e38
#: Options that must be finite numbers.
_FINITE = ("lr", "momentum", "weight_decay", "refinement_lr_mult", "lr_gamma", "distill", "val_fraction", "sigma",
           "paf_width", "distill_supervised")
#: Named initialisations; anything else given as ``init`` is a path to a weights or training-checkpoint file.
INIT_CHOICES: tuple[str, ...] = ("pretrained", "imagenet", "scratch")
OPTIMIZERS: tuple[str, ...] = ("adam", "sgd")
#: What ``freeze`` may name.
FREEZE_CHOICES: tuple[str, ...] = ("bn", "backbone")
#: Named option sets a run can start from (``--recipe``); a config file and explicit options override them.
#: ``finetune``: adapt the pretrained network to a few hundred photos or fewer without losing what it knows
#: (docs/finetuning.md gives the measurements behind each value). ``adapt``: distil a teacher's output on the user's
#: footage into the network (``--teacher-json``/``--teacher self``, :mod:`openpose_py.train.adapt`; its crops' person
#: scale is fitted to the footage and ``--anchor-images`` holds it elsewhere, both set by the command, not here).
RECIPES: dict[str, dict[str, Any]] = {
    "finetune": {"init": "pretrained", "optimizer": "sgd", "lr": 3e-7, "refinement_lr_mult": 1.0,
                 "warmup_steps": 10, "freeze": ["backbone", "bn"], "distill": 10.0, "batch_size": 4, "steps": 200,
                 "val_every": 50, "augment": {"crop_size": 256}},
    "adapt": {"init": "pretrained", "optimizer": "sgd", "lr": 5e-6, "refinement_lr_mult": 1.0,
              "warmup_steps": 10, "freeze": ["backbone", "bn"], "distill": 1.0, "mask_unlabelled": True,
              "batch_size": 4, "steps": 300, "val_every": 100, "augment": {"crop_size": 256}},
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on.

    Attributes:
        annotations, images: COCO-format keypoint annotations and the folder of their images.
        output_dir: receives ``checkpoint.pt`` (full training state), ``weights.safetensors`` (the network with its
            spec, loadable by ``PoseEstimator`` and ``--weights``), ``metrics.jsonl`` and ``config.json``; a new
            run needs an absent or empty folder (:mod:`openpose_py.train.outputs`).
        model: registered weights entry whose architecture, skeleton and pre-processing are trained.
        init: ``"pretrained"`` (that entry's weights), ``"imagenet"`` (VGG-19 front end from torchvision),
            ``"scratch"`` (seeded random), or a path to a weights file / training checkpoint.
        arch_options: builder keyword overrides, e.g. ``(("width", 0.25),)`` for a reduced network.
        steps: optimiser steps of the whole run (a resumed run continues up to it).
        batch_size: global batch (split evenly over distributed workers).
        lr: base learning rate; refinement stages get ``refinement_lr_mult`` times it (biases a further x2,
            without weight decay), as in the reference recipes.
        optimizer, momentum, weight_decay: ``"adam"`` or ``"sgd"`` (with ``momentum`` in [0, 1)), and the L2
            weight decay (>= 0) of the weights that take one.
        lr_step, lr_gamma: multiply the learning rate by ``lr_gamma`` (in (0, 1]) every ``lr_step`` steps (0:
            constant).
        warmup_steps: raise the learning rate linearly over this many first steps (0: none).
        distill: weight of the distance of every stage's outputs to those of a frozen copy of the initial network
            (0: none); fine-tuning keeps what the network knew (:mod:`openpose_py.train.loss`).
        distill_supervised: the distillation term's factor where the targets supervise (the loss mask is 1); 1 weighs
            it the same everywhere, 0 keeps it only where nothing else is taught (masked regions, unlabelled parts,
            anchor photos), so that a teacher's confident labels are taken in full.
        mask_unlabelled: leave out of the loss, around each annotated person, the heatmaps and limbs of the keypoints
            it has no label for (:mod:`openpose_py.train.masks`).
        freeze: parts that do not train: ``"bn"`` (batch-norm parameters and running statistics, which then stay in
            eval mode), ``"backbone"`` (the image feature extractor).
        amp: mixed precision (float16 autocast + gradient scaling); only takes effect on CUDA.
        checkpoint_every, log_every: in steps (0 disables periodic checkpoints; the final one is always written).
        val_images, val_annotations, val_every, val_max_images: COCO keypoint AP on a held-out set every
            ``val_every`` steps and after the last step (``weights.best.safetensors`` keeps the best one's weights),
            on its first ``val_max_images`` images (None: all).
        val_fraction: without ``val_images``/``val_annotations``, hold out this fraction of the training images
            that have annotated people (every n-th such image by id,
            :func:`openpose_py.train.validation.split_by_image_id`) for validation; 0, or a set too small to split,
            trains on everything and validates on nothing.
        early_stop_patience: stop after this many validations without a better AP (0: never).
        workers: data-loading processes per training process.
        seed: seeds the initial network, the data order and the augmentation, 0 .. :data:`MAX_SEED`.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ..., ``"mps"``; None picks CUDA when available (one GPU per
            process).
        tensorboard: also log to ``output_dir/tensorboard`` (needs the ``tensorboard`` extra).
        sigma, paf_width: target encoder parameters (Gaussian sigma in input pixels, PAF half-width in cells); None
            keeps those of the model's codec (:class:`~openpose_py.codec.PafCodec`), and the trained weights carry
            the values used in theirs.

    Every number must be finite; a value out of its range raises :class:`TrainConfigError` naming the option.
    """

    annotations: Path
    images: Path
    output_dir: Path
    model: str = "lightweight"
    init: str = "pretrained"
    arch_options: tuple[tuple[str, Any], ...] = ()
    steps: int = 1000
    batch_size: int = 8
    optimizer: str = "adam"
    lr: float = 4e-5
    momentum: float = 0.9
    weight_decay: float = 5e-4
    refinement_lr_mult: float = 4.0
    lr_step: int = 0
    lr_gamma: float = 0.333
    warmup_steps: int = 0
    freeze: tuple[str, ...] = ()
    distill: float = 0.0
    distill_supervised: float = 1.0
    mask_unlabelled: bool = False
    amp: bool = True
    checkpoint_every: int = 1000
    log_every: int = 10
    val_images: Path | None = None
    val_annotations: Path | None = None
    val_every: int = 0
    val_max_images: int | None = None
    val_fraction: float = 0.2
    early_stop_patience: int = 0
    seed: int = 0
    workers: int = 2
    device: str | None = None
    tensorboard: bool = False
    sigma: float | None = None
    paf_width: float | None = None
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    data: DatasetConfig = field(default_factory=DatasetConfig)

    def __post_init__(self) -> None:
        for name in ("annotations", "images", "output_dir", "val_images", "val_annotations"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
        if isinstance(self.freeze, str):
            object.__setattr__(self, "freeze", tuple(p for p in self.freeze.split(",") if p))
        elif not isinstance(self.freeze, tuple):
            object.__setattr__(self, "freeze", tuple(self.freeze))
        if isinstance(self.arch_options, Mapping):
            object.__setattr__(self, "arch_options", tuple(sorted(self.arch_options.items())))
        # first: inf would pass the range checks below, and nan fail them misleadingly
        check_finite(self, _FINITE, what="a finite number", error=TrainConfigError)
        check_all((
            (0 <= self.seed <= MAX_SEED, f"seed must lie in [0, {MAX_SEED}], got {self.seed}"),
            (self.device is None or re.fullmatch(DEVICE_PATTERN, self.device) is not None,
             f"unknown device {self.device!r}; training runs on cpu, cuda, cuda:N or mps"),
            (self.steps > 0, f"steps must be positive, got {self.steps}"),
            (self.batch_size > 0, f"batch_size must be positive, got {self.batch_size}"),
            (self.lr > 0, f"lr must be positive, got {self.lr}"),
            # torch applies a group's rate as a float32 factor: beyond its range a step fails
            (self.lr * max(1.0, self.refinement_lr_mult) * 2.0 <= _FLOAT32_MAX,
             f"lr x refinement_lr_mult x 2 (the rate of the refinement stages' biases) must stay within float32, got "
             f"{self.lr * max(1.0, self.refinement_lr_mult) * 2.0:g}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"),
            (0.0 <= self.momentum < 1.0, f"momentum must lie in [0, 1), got {self.momentum}"),
            (self.weight_decay >= 0.0, f"weight_decay must be >= 0, got {self.weight_decay}"),
            (self.refinement_lr_mult >= 0.0, f"refinement_lr_mult must be >= 0, got {self.refinement_lr_mult}"),
            # a decay: a growing rate leaves float32's range within a few steps (torch then fails mid-run)
            (0.0 < self.lr_gamma <= 1.0, f"lr_gamma must lie in (0, 1], got {self.lr_gamma}"),
            (self.lr_step >= 0 and self.checkpoint_every >= 0 and self.val_every >= 0 and self.log_every > 0,
             "lr_step, checkpoint_every and val_every must be >= 0, log_every > 0"),
            (self.workers >= 0, f"workers must be >= 0, got {self.workers}"),
            ((self.val_images is None) == (self.val_annotations is None),
             "val_images and val_annotations go together"),
            (0.0 <= self.val_fraction < 1.0, f"val_fraction must lie in [0, 1), got {self.val_fraction}"),
            (self.val_max_images is None or self.val_max_images > 0,
             f"val_max_images must be positive (leave it unset for all images), got {self.val_max_images}"),
            (self.val_every == 0 or self.val_images is not None or self.val_fraction > 0,
             "val_every needs val_images and val_annotations, or a val_fraction"),
            (self.distill >= 0.0, f"distill must be >= 0, got {self.distill}"),
            (0.0 <= self.distill_supervised <= 1.0,
             f"distill_supervised must lie in [0, 1], got {self.distill_supervised}"),
            ((self.sigma is None or self.sigma > 0.0) and (self.paf_width is None or self.paf_width > 0.0),
             f"sigma and paf_width must be positive, got {self.sigma} and {self.paf_width}"),
            (self.distill == 0.0 or self.starts_trained,
             f"distill keeps what a trained initial network knew; init {self.init!r} has nothing to keep"),
            (self.warmup_steps >= 0 and self.early_stop_patience >= 0,
             "warmup_steps and early_stop_patience must be >= 0"),
            (not (set(self.freeze) - set(FREEZE_CHOICES)),
             f"freeze takes {', '.join(FREEZE_CHOICES)}, got {', '.join(self.freeze)}"),
        ), error=TrainConfigError)

    def loss_options(self) -> dict[str, Any]:
        """The options of :func:`openpose_py.train.targets.batch_loss` this run sets."""
        return {"distill": self.distill, "distill_supervised": self.distill_supervised,
                "mask_unlabelled": self.mask_unlabelled}

    @property
    def starts_trained(self) -> bool:
        """Whether the run starts from trained weights (pretrained or a file), not from ImageNet or random ones."""
        return self.init not in ("imagenet", "scratch")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping that :meth:`from_dict` turns back into an equal config."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif f.name == "freeze":
                value = list(value)
            elif f.name == "arch_options":
                value = dict(value)
            elif f.name in ("augment", "data"):
                value = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(value).items()}
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> TrainConfig:
        """Build from a mapping such as a parsed config file (nested ``augment`` and ``data`` tables allowed)."""
        missing = [k for k in ("annotations", "images", "output_dir") if mapping.get(k) is None]
        check_option_types(cls, {k: v for k, v in mapping.items() if k not in missing})
        if missing:
            raise TrainConfigError(f"missing training option(s): {', '.join(missing)}")
        kwargs = dict(mapping)
        try:
            for table, kind in (("augment", AugmentConfig), ("data", DatasetConfig)):
                if not isinstance(kwargs.get(table), Mapping):
                    continue
                values = dict(kwargs[table])
                check_option_types(kind, values, f"{table}.")
                if "scale_range" in values:
                    values["scale_range"] = tuple(float(v) for v in values["scale_range"])
                try:
                    kwargs[table] = kind(**values)
                except ValueError as exc:  # its messages start with the option's name
                    raise TrainConfigError(f"{table}.{exc}") from exc
            return cls(**kwargs)
        except TrainConfigError:
            raise
        except (TypeError, ValueError) as exc:
            raise TrainConfigError(f"invalid training configuration: {exc}") from exc


#: How an error names a kind of value, alone and in a list.
_KINDS = {int: ("an integer", "integers"), float: ("a number", "numbers"), bool: ("true or false", "booleans"),
          str: ("a string", "strings"), Path: ("a path", "paths")}


def _takes(kind: Any, value: Any) -> bool:
    """Whether ``value`` (as a config file gives it) fits the annotation ``kind``; kinds it cannot judge pass."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return any(_takes(k, value) for k in typing.get_args(kind))
    if kind is type(None):
        return value is None
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind in (str, Path):
        return isinstance(value, (str, Path))
    if dataclasses.is_dataclass(kind):
        return isinstance(value, (Mapping, kind))
    if typing.get_origin(kind) is tuple:
        args = typing.get_args(kind)
        if not isinstance(value, (list, tuple)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_takes(args[0], v) for v in value)
        return len(args) == len(value) and all(_takes(a, v) for a, v in zip(args, value))
    return True


def _describe(kind: Any, plural: bool = False) -> str:
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return " or ".join(_describe(k, plural) for k in typing.get_args(kind) if k is not type(None))
    if typing.get_origin(kind) is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0], True)}"
        return f"a list of {len(args)} {_describe(args[0], True)}"
    if dataclasses.is_dataclass(kind):
        return "tables" if plural else "a table"
    names = _KINDS.get(kind)
    return names[plural] if names else getattr(kind, "__name__", str(kind))


def check_option_types(cls: type, values: Mapping[str, Any], prefix: str = "") -> None:
    """Refuse, naming the option, a value of a type its field cannot take, and a key ``cls`` does not have (what a
    config file can get wrong: ``steps = "100"``, ``[augment] crop_size = "big"``, ``freeze = 3``).

    Raises:
        TrainConfigError: ``{prefix}{key} must be ..., got ...`` or ``unknown option(s)``.
    """
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise TrainConfigError(f"unknown training option(s): {', '.join(prefix + k for k in unknown)}")
    for key, value in values.items():
        kind = hints[key]
        if key == "freeze" and isinstance(value, str):  # a comma-separated list is accepted too
            continue
        if key == "arch_options":  # a table in a file, its sorted items once built
            if not (isinstance(value, Mapping) or _takes(kind, value)):
                raise TrainConfigError(f"{prefix}{key} must be a table, got {value!r}")
        elif not _takes(kind, value):
            raise TrainConfigError(f"{prefix}{key} must be {_describe(kind)}, got {value!r}")


#: Options that are tables of their own: a layer that names some of their keys keeps the others from below.
_TABLES = ("augment", "data", "arch_options")


def overlay_options(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``top``'s options over ``base``'s (a recipe under a config file, say); the tables ``augment``, ``data`` and
    ``arch_options`` merge key by key, so a file's ``[augment] max_rotation = 10`` keeps the recipe's crop size."""
    out = {**base, **top}
    for key in _TABLES:
        if isinstance(base.get(key), Mapping) and isinstance(top.get(key), Mapping):
            out[key] = {**base[key], **top[key]}
    return out


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON (``.json``) or TOML (any other suffix) training configuration as a mapping."""
    path = Path(path)
    if not path.is_file():
        raise TrainConfigError(f"no such config file: {path}")
    try:
        text = path.read_text()
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            try:
                import tomllib
            except ImportError as exc:  # Python 3.10
                raise TrainConfigError(f"TOML config files need Python 3.11 or later; write {path.name} as "
                                       "JSON instead") from exc
            data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise TrainConfigError(f"cannot read config file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise TrainConfigError(f"config file {path} must hold a table of options")
    return data
