"""``openpose-py train``: train or fine-tune a network on COCO-format keypoint data.

Options override the values of ``--config`` (JSON or TOML holding the same names as
:class:`openpose_py.train.TrainConfig`, with ``augment`` and ``data`` sub-tables), which override, with ``--resume``,
the configuration stored in the checkpoint, which overrides ``--recipe``; a sub-table overrides only the keys it
names (:func:`openpose_py.train.config.overlay_options`). For several GPUs or machines, start it under
``torchrun``; the command is the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .options import MAX_THREADS

__all__ = ["train", "RECIPE_NAMES"]

#: A copy of openpose_py.train.config.RECIPES' names, so that parsing the flags needs no torch import; a test keeps
#: them equal.
RECIPE_NAMES = ("finetune", "adapt")
#: The options of footage training (``--teacher-json``/``--teacher``), handed to :func:`_footage_options`.
_FOOTAGE_OPTIONS = ("teacher_json", "teacher", "teacher_scales", "teacher_flip", "teacher_min_confidence",
                    "teacher_min_height", "teacher_ignore", "frame_step", "frame_size", "footage_cache",
                    "anchor_images", "anchor_share")


def _arch_option(values: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--arch-option")
        value: Any = raw
        for cast in (int, float):
            try:
                value = cast(raw)
                break
            except ValueError:
                continue
        out[key] = value
    return out


def _prepare_footage(values: dict[str, Any], footage: dict[str, Any], resume: Path | None) -> dict[str, Any]:
    """Cache the footage and its teacher's annotations (:func:`openpose_py.train.adapt.prepare_footage`); the
    training options that point at them."""
    from ..errors import TrainConfigError
    from ..train.adapt import AdaptConfig, prepare_footage
    from ..train.outputs import check_output_dir
    from ..train.teacher import TeacherConfig

    if (footage["teacher_json"] is None) == (footage["teacher"] is None):
        raise click.UsageError("training on footage needs one teacher: --teacher-json DIR or --teacher self")
    if values.get("annotations") is not None or values.get("val_images") is not None:
        raise click.UsageError("with a teacher the labels come from it: no --annotations or --val-images")
    if values.get("images") is None or values.get("output_dir") is None:
        raise click.UsageError("training on footage needs --images (a video or a folder of frames) and --output-dir")
    output_dir = Path(values["output_dir"])
    check_output_dir(output_dir, resume)  # before the cache is written into it
    teacher = {k: footage[f"teacher_{k}"] for k in ("min_confidence", "min_height") if footage[f"teacher_{k}"]
               is not None}
    adapt: dict[str, Any] = {"footage": Path(values["images"]), "teacher_json": footage["teacher_json"],
                             "cache": footage["footage_cache"] or output_dir / "footage"}
    for key, name in (("teacher_flip", "teacher_flip"), ("frame_step", "frame_step"), ("frame_size", "max_side"),
                      ("val_fraction", "val_fraction"), ("anchor_images", "anchors"), ("anchor_share", "anchor_share")):
        value = values.get(key) if key == "val_fraction" else footage[key]
        if value is not None:
            adapt[name] = value
    if footage["teacher_scales"]:
        try:
            adapt["teacher_scales"] = tuple(float(s) for s in footage["teacher_scales"].split(","))
        except ValueError:
            raise click.BadParameter(f"expected numbers separated by commas, got {footage['teacher_scales']!r}",
                                     param_hint="--teacher-scales") from None
    try:
        config = AdaptConfig(**adapt, teacher=TeacherConfig(**teacher, ignore=tuple(footage["teacher_ignore"])))
    except ValueError as exc:
        raise TrainConfigError(str(exc)) from exc
    data = prepare_footage(config)
    out: dict[str, Any] = {"annotations": data.train, "images": data.images}
    if config.anchors is not None:  # the anchor tiles have no people: they are drawn as negatives
        out["data"] = {**dict(values.get("data") or {}), "negatives": True}
    aug = dict(values.get("augment") or {})
    if data.person_fraction is not None and "target_dist" not in aug:
        out["augment"] = {**aug, "target_dist": _fitted_target_dist(data.person_fraction, values, aug)}
    if data.val is not None:
        out.update(val_images=data.images, val_annotations=data.val)
    return out


def _fitted_target_dist(fraction: float, values: dict[str, Any], aug: dict[str, Any]) -> float:
    """The training crops' person scale that matches the footage's people at the network's input height."""
    from ..data.transforms import AugmentConfig
    from ..errors import TrainConfigError
    from ..train.adapt import fitted_target_dist
    from ..weights import get_spec

    try:
        height = get_spec(values.get("model") or "lightweight").preprocess.height
    except KeyError as exc:
        raise TrainConfigError(str(exc.args[0])) from exc
    default = AugmentConfig()
    value = fitted_target_dist(fraction, height, int(aug.get("crop_size", default.crop_size)),
                               tuple(aug.get("scale_range", default.scale_range)))
    return round(value, 4)


@click.command(context_settings={"show_default": True})
@click.option("--recipe", type=click.Choice(RECIPE_NAMES),
              help="Start from a named set of options (a config file and options override it): finetune adapts the "
                   "pretrained network to a few photos without losing what it knows; adapt to footage with a "
                   "teacher's output on it (--teacher-json or --teacher self) (docs/finetuning.md).")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="JSON or TOML file of options.")
@click.option("--model", help="Registered weights entry to train (its network, skeleton, pre-processing) "
                               "[default: lightweight].")
@click.option("--init", help="pretrained | imagenet (CMU VGG-19 front end, needs the vgg-init extra) | scratch | a "
                              "weights file or training checkpoint [default: pretrained].")
@click.option("--arch-option", multiple=True, metavar="KEY=VALUE",
              help="Network builder option, e.g. width=0.5 or num_refinement_stages=3 (repeatable).")
@click.option("--annotations", type=click.Path(path_type=Path), help="COCO person-keypoint annotation JSON.")
@click.option("--images", type=click.Path(path_type=Path),
              help="Folder of the annotated images; with a teacher, a video (sampled by frame index) or a folder of "
                   "frames.")
@click.option("--teacher-json", type=click.Path(path_type=Path),
              help="Train on --images with a teacher's OpenPose JSON per frame (BODY_25 or COCO-18, ours or the "
                   "official OpenPose's; matched by stem or frame index) as the labels.")
@click.option("--teacher", type=click.Choice(["self"]),
              help="self: our own multi-scale + flip output on the frames is the teacher (run once, cached).")
@click.option("--teacher-scales", help="The self-teacher's scales, comma-separated [default: 0.5,1,1.5,2].")
@click.option("--teacher-flip/--no-teacher-flip", default=None, help="The self-teacher also runs the mirrored frame "
                                                                     "[default: flip].")
@click.option("--teacher-min-confidence", type=click.FloatRange(0.0, 1.0),
              help="Teacher keypoints below this confidence are masked, not taught [default: 0.2].")
@click.option("--teacher-min-height", type=click.FloatRange(min=0.0),
              help="Teacher people shorter than this (pixels of the cached frames) are masked [default: 32].")
@click.option("--teacher-ignore", multiple=True,
              help="A COCO keypoint name never taught, e.g. left_hip (repeatable).")
@click.option("--anchor-images", type=click.Path(path_type=Path),
              help="A folder of photos of other scenes (not those you evaluate on) on which the run only holds the "
                   "network to its start (the --distill term), so that it forgets less away from the footage.")
@click.option("--anchor-share", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
              help="The share of training samples that are anchor tiles [default: 0.25].")
@click.option("--frame-step", type=click.IntRange(min=1), help="Use every n-th video frame [default: 1].")
@click.option("--frame-size", type=click.IntRange(min=16),
              help="Cache the frames with their longer side at most this many pixels [default: 960].")
@click.option("--footage-cache", type=click.Path(path_type=Path),
              help="Folder for the decoded frames, the self-teacher's output and the teacher's annotations "
                   "(train.json; val.json: the last --val-fraction of the frames) [default: OUTPUT_DIR/footage].")
@click.option("--output-dir", type=click.Path(path_type=Path),
              help="Receives checkpoint.pt, weights.safetensors, metrics.jsonl, config.json; absent or empty, "
                   "unless --resume continues the run it holds.")
@click.option("--resume", type=click.Path(path_type=Path),
              help="Continue from a training checkpoint (or an output directory holding one).")
@click.option("--steps", type=int, help="Total optimiser steps [default: 1000].")
@click.option("--batch-size", type=int, help="Global batch size, split over processes [default: 8].")
@click.option("--lr", type=float, help="Base learning rate; refinement stages x4 [default: 4e-5; --recipe finetune: "
                                        "3e-7].")
@click.option("--warmup-steps", type=int, help="Raise the learning rate linearly over the first N steps [default: 0].")
@click.option("--freeze", "freeze", multiple=True, type=click.Choice(["bn", "backbone"]),
              help="Keep a part fixed: bn (batch-norm parameters and statistics), backbone (repeatable).")
@click.option("--distill", type=float,
              help="Weight of the distance to the initial network's outputs, which keeps what it knew when "
                   "fine-tuning on few photos (0: none) [default: 0].")
@click.option("--distill-supervised", type=click.FloatRange(0.0, 1.0),
              help="The --distill term's factor where the targets supervise (1: the same everywhere; 0: only where "
                   "nothing is taught: masked parts, anchor photos) [default: 1].")
@click.option("--mask-unlabelled/--no-mask-unlabelled", default=None,
              help="Leave the keypoints and limbs an annotated person has no label for out of the loss around "
                   "that person [default: no].")
@click.option("--sigma", type=click.FloatRange(min=0.0, min_open=True),
              help="Heatmap target Gaussian sigma, input pixels [default: the model's codec, 7].")
@click.option("--paf-width", type=click.FloatRange(min=0.0, min_open=True),
              help="PAF target band half-width, map cells [default: the model's codec, 1]. --check-targets shows "
                   "the scale the targets ask of the initial network's outputs.")
@click.option("--refinement-lr-mult", type=float, help="Learning-rate factor of the refinement stages [default: 4].")
@click.option("--weight-decay", type=float, help="[default: 5e-4]")
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), help="[default: adam]")
@click.option("--lr-step", type=int, help="Multiply the learning rate by --lr-gamma every N steps (0: never).")
@click.option("--lr-gamma", type=float, help="Decay factor in (0, 1] [default: 0.333]")
@click.option("--crop-size", type=int,
              help="Training crop side in pixels, a multiple of the network stride (8) up to 4096 [default: 368].")
@click.option("--augment/--no-augment", default=None,
              help="Random scale, rotation, jitter and flip [default: augment].")
@click.option("--negatives/--no-negatives", default=None, help="Also train on images without people.")
@click.option("--amp/--no-amp", default=None, help="Mixed precision on CUDA [default: amp].")
@click.option("--checkpoint-every", type=int, help="Steps between checkpoints [default: 1000].")
@click.option("--log-every", type=int, help="Steps between metric records [default: 10].")
@click.option("--val-images", type=click.Path(path_type=Path), help="Validation image folder.")
@click.option("--val-annotations", type=click.Path(path_type=Path), help="Validation annotation JSON.")
@click.option("--val-every", type=int, help="Steps between validation AP runs (0: after the last step only).")
@click.option("--val-fraction", type=float,
              help="Without --val-images/--val-annotations: hold out this fraction of the training images that "
                   "have annotated people (every n-th by id) for validation; 0: none [default: 0.2].")
@click.option("--early-stop-patience", type=int,
              help="Stop after N validations without a better AP (0: never) [default: 0].")
@click.option("--val-max-images", type=int, help="Validate on the first N images only [default: all].")
@click.option("--workers", type=int, help="Data-loading processes [default: 2].")
@click.option("--seed", type=int, help="0 .. 2**32-1 [default: 0]")
@click.option("--device", help="cpu, cuda, cuda:1 ..., mps [default: CUDA if available].")
@click.option("--tensorboard/--no-tensorboard", default=None, help="Also log to output-dir/tensorboard.")
@click.option("--threads", type=click.IntRange(min=1, max=MAX_THREADS),
              help="CPU threads for torch [default: the runtime's choice].")
@click.option("--check-targets", is_flag=True,
              help="Only report the initial network's loss against the targets next to a random network's, per "
                   "stage and branch, on the first training samples; train nothing.")
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
def train(recipe: str | None, config_file: Path | None, arch_option: tuple[str, ...], resume: Path | None,
          crop_size: int | None, augment: bool | None, negatives: bool | None, freeze: tuple[str, ...],
          threads: int | None, check_targets: bool, progress: bool, **all_options: Any) -> None:
    """Train or fine-tune a network on COCO-format keypoint data.

    \b
    Examples:
      openpose-py train --annotations person_keypoints_train2017.json --images train2017/ --output-dir runs/a
      openpose-py train --resume runs/a --steps 20000
      openpose-py train --recipe finetune --annotations ann.json --images photos/ --output-dir runs/ft
      openpose-py train --annotations ann.json --images photos/ --output-dir runs/ft --check-targets
      torchrun --nproc-per-node 4 --no-python openpose-py train --config run.toml
    """
    import copy
    import json

    import torch

    from ..data.transforms import AugmentConfig
    from ..runs.context import RunContext
    from ..train.checkpoint import load_checkpoint
    from ..train.config import RECIPES, TrainConfig, check_option_types, load_config_file, overlay_options
    from ..train.targets import check_run_targets
    from ..train.trainer import train as run_training

    options = {k: v for k, v in all_options.items() if k not in _FOOTAGE_OPTIONS}
    if threads is not None:
        torch.set_num_threads(threads)
    # a recipe, overridden by a resumed run's own configuration, then by a config file, then by options
    layers = [copy.deepcopy(RECIPES[recipe]) if recipe is not None else {},
              json.loads(load_checkpoint(resume)["config"]) if resume is not None else {},
              load_config_file(config_file) if config_file is not None else {},
              {k: v for k, v in options.items() if v is not None}]
    values: dict[str, Any] = {}
    for layer in layers:
        values = overlay_options(values, layer)
        if layer.get("val_fraction") == 0 and "val_every" not in layer and values.get("val_images") is None:
            values["val_every"] = 0  # no held-out split: a recipe's schedule for validating on it goes with it
    # before the tables below are taken apart: a file may hold any type (a null is left to the config's own checks)
    check_option_types(TrainConfig, {k: v for k, v in values.items() if v is not None})
    if freeze:
        values["freeze"] = list(freeze)
    if arch_option:
        values["arch_options"] = {**dict(values.get("arch_options") or {}), **_arch_option(arch_option)}
    aug = dict(values.get("augment") or {})
    if crop_size is not None:
        aug["crop_size"] = crop_size
    if augment is False:
        identity = AugmentConfig.identity()
        aug.update({k: getattr(identity, k) for k in ("scale_range", "max_rotation", "center_jitter", "flip_prob")})
    if aug:
        values["augment"] = aug
    if negatives is not None:
        values["data"] = {**dict(values.get("data") or {}), "negatives": negatives}
    footage = {k: all_options.get(k) for k in _FOOTAGE_OPTIONS}
    if footage["teacher_json"] is not None or footage["teacher"] is not None or recipe == "adapt":
        values.update(_prepare_footage(values, footage, resume))
    config = TrainConfig.from_dict(values)
    if check_targets:
        check = check_run_targets(config)
        click.echo(f"{config.model} (init {config.init}) against the training targets on {check.num_samples} "
                   "samples, next to a random network:")
        click.echo(check.table())
        return
    result = run_training(config, resume=resume, progress=progress)
    if not RunContext.from_env().is_root:
        return  # under torchrun, rank 0 reports
    last = next((r for r in reversed(result.history) if "loss" in r), None)
    summary = f"step {result.step}: weights {result.weights}"
    if last is not None:
        summary += f", loss {last['loss']:.4g}, {last['images_per_s']:.1f} images/s"
    click.echo(summary)
    if result.best is not None and result.best_ap is not None:
        start = " (the starting weights: no validation after them did better)" if result.best_step == 0 else ""
        click.echo(f"best validation AP {result.best_ap:.4f} at step {result.best_step}: {result.best}{start}")
