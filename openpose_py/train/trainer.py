"""The training loop: one GPU, many GPUs and machines (``torchrun``), or CPU, through one code path.

Per step: the data loader yields augmented uint8 crops, people and loss masks (:class:`openpose_py.data.CocoKeypoints`);
the trainer normalises the images, encodes heatmap and PAF targets for the whole batch on its device
(:mod:`openpose_py.encode`), runs the network, and minimises the masked L2 of every stage (:mod:`.loss`). Under
``torchrun`` each process drives one device with DistributedDataParallel; rank 0 alone logs, validates and writes files.

Outputs in ``config.output_dir``: ``checkpoint.pt`` (full training state, see :mod:`.checkpoint`),
``weights.safetensors`` (the network and its weights spec, for ``PoseEstimator.from_pretrained(path)`` and
``--weights``), ``metrics.jsonl`` (one record per log interval and per validation), ``config.json``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from .. import models
from ..atomic import atomic_path
from ..data.coco import Batch, CocoKeypoints, collate
from ..encode import encode_heatmaps, encode_pafs
from ..errors import ArchitectureMismatchError, OpenPoseError, WeightsError
from ..preprocess import normalise
from ..weights import WeightsSpec, get_spec, save_weights
from .checkpoint import capture_rng, is_training_checkpoint, load_checkpoint, restore_rng, save_checkpoint
from .config import TrainConfig, TrainConfigError
from .loss import LossReport, pose_loss
from .sampling import StepSampler

__all__ = ["Trainer", "TrainResult", "DistContext", "train", "build_model", "param_groups",
           "refinement_parameters", "load_imagenet_vgg19", "CHECKPOINT_NAME", "WEIGHTS_NAME",
           "METRICS_NAME"]

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
WEIGHTS_NAME = "weights.safetensors"
METRICS_NAME = "metrics.jsonl"


@dataclass(frozen=True, slots=True)
class DistContext:
    """Where this process sits in a (possibly single-process) run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False  # this trainer initialised the process group and tears it down

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


@dataclass(frozen=True)
class TrainResult:
    """What a :meth:`Trainer.fit` call did: the step reached, the records it logged, the files it wrote."""

    step: int
    history: tuple[dict[str, Any], ...]
    checkpoint: Path
    weights: Path


def refinement_parameters(model: nn.Module, stride: int = 8) -> set[str]:
    """Names of the parameters that do not influence the first stage's output (the refinement stages).

    Found by autograd on a tiny input rather than by layer names, so it holds for every architecture (the CMU
    networks' ``Mconv*_stage2..6``, BODY_25's later PAF and heatmap stages, Lightweight's ``refinement_stages``).
    """
    params = dict(model.named_parameters())
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
    conv biases at a further x2 without weight decay, normalisation and PReLU parameters without weight decay."""
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


def load_imagenet_vgg19(model: nn.Module) -> None:
    """Initialise a CMU network's VGG-19 front end (``conv1_1`` .. ``conv4_2``) from torchvision's ImageNet VGG-19.

    torchvision's network reads RGB normalised with ImageNet statistics; ours reads BGR as ``pixel / 256 - 0.5``.
    The first conv is adapted so both see the same image: input channels reversed, scaled by ``1 / std`` and the
    mean offset folded into the bias.

    Raises:
        WeightsError: torchvision is not installed, or its weights cannot be downloaded.
    """
    _front_end_names(model)  # refuse a network without a VGG-19 front end before looking for torchvision
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


def _front_end_names(model: nn.Module) -> list[str]:
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
    ours = _front_end_names(model)
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
    except TypeError as exc:
        raise TrainConfigError(f"invalid network options {dict(config.arch_options)} for {spec.architecture}: "
                               f"{exc}") from exc
    if load_init and config.init != "scratch":
        if config.init == "imagenet":
            load_imagenet_vgg19(model)
        else:
            _load_state(model, _init_state(config), config.init)
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


def _load_state(model: nn.Module, state: dict[str, Tensor], source: str) -> None:
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ArchitectureMismatchError(f"the weights from {source} do not fit the network being trained: "
                                        f"{str(exc).splitlines()[0]}") from exc


def _init_distributed(config: TrainConfig) -> tuple[DistContext, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if config.device is not None:
        device = torch.device(config.device)
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", local)
    else:
        device = torch.device("cuda", local) if torch.cuda.is_available() else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    owns = False
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        owns = True
    if dist.is_initialized():
        world, rank = dist.get_world_size(), dist.get_rank()
    return DistContext(rank, world, local, owns), device


class _MetricsSink:
    """Rank 0's JSONL file, and TensorBoard when asked for."""

    def __init__(self, output_dir: Path, tensorboard: bool) -> None:
        self.path = output_dir / METRICS_NAME
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as exc:
                raise TrainConfigError("TensorBoard logging needs the tensorboard package: "
                                       "pip install 'openpose-py[tensorboard]'") from exc
            self._tb = SummaryWriter(str(output_dir / "tensorboard"))

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        if self._tb is not None:
            for key, value in record.items():
                if key != "step" and isinstance(value, (int, float)):
                    self._tb.add_scalar(key, value, record["step"])
            self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


class Trainer:
    """Trains one network as ``config`` describes.

    Args:
        config: the run.
        resume: a training checkpoint (or an output directory holding one) to continue from: network, optimiser,
            schedule, gradient scaler, step, data position and RNG states are restored, so that the continued run
            matches an uninterrupted one.

    Raises:
        DatasetError, WeightsError, TrainConfigError: unusable data, weights or options, before any training.
    """

    def __init__(self, config: TrainConfig, *, resume: str | Path | None = None) -> None:
        self.config = config
        self.ctx, self.device = _init_distributed(config)
        try:
            spec = get_spec(config.model)
        except KeyError as exc:
            raise TrainConfigError(str(exc.args[0])) from exc
        if config.augment.stride != spec.preprocess.stride:
            raise TrainConfigError(f"augment stride {config.augment.stride} differs from the network stride "
                                   f"{spec.preprocess.stride}")
        if config.batch_size % self.ctx.world_size:
            raise TrainConfigError(f"batch size {config.batch_size} must be divisible by the {self.ctx.world_size} "
                                   "processes")
        self.dataset = CocoKeypoints(config.images, config.annotations, spec.skeleton, config.augment, config.data,
                                     seed=config.seed)
        checkpoint = load_checkpoint(resume, map_location="cpu") if resume is not None else None
        self.model, self.spec = build_model(config, load_init=checkpoint is None)
        self.skeleton = self.spec.skeleton
        self.model.to(self.device).train()
        self.optimizer = self._optimizer()
        step_size = config.lr_step if config.lr_step > 0 else sys.maxsize
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size, gamma=config.lr_gamma)
        self.amp = config.amp and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.step = 0
        if checkpoint is not None:
            self._restore(checkpoint)
        self.network: nn.Module = self.model
        if self.ctx.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.network = DistributedDataParallel(self.model, device_ids=ids)
        self.output_dir = config.output_dir
        self.sink: _MetricsSink | None = None
        if self.ctx.is_main:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            self.sink = _MetricsSink(self.output_dir, config.tensorboard)
            _write_json(self.output_dir / "config.json", config.to_dict())
        log.info("training %s on %s (%d samples), %d process(es), device %s, from step %d", config.model,
                 config.annotations, len(self.dataset), self.ctx.world_size, self.device, self.step)

    # ---- set-up ----------------------------------------------------------------------------------------------------
    def _optimizer(self) -> torch.optim.Optimizer:
        cfg = self.config
        groups = param_groups(self.model, cfg.lr, cfg.weight_decay, cfg.refinement_lr_mult)
        if cfg.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum)
        return torch.optim.Adam(groups, lr=cfg.lr)

    def _restore(self, state: dict[str, Any]) -> None:
        _load_state(self.model, state["model"], "the checkpoint")
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.step = int(state["step"])
        restore_rng(state["rng"])
        saved = json.loads(state["config"])
        if saved.get("batch_size") != self.config.batch_size or saved.get("seed") != self.config.seed:
            log.warning("resuming with a different batch size or seed than the checkpoint's: the data order changes")

    # ---- the loop --------------------------------------------------------------------------------------------------
    def train_step(self, batch: Batch) -> LossReport:
        """One optimiser step on a (local) batch; returns its loss report."""
        batch = batch.to(self.device, non_blocking=True)
        stride = self.config.augment.stride
        map_size = (batch.images.shape[2] // stride, batch.images.shape[3] // stride)
        with torch.no_grad():
            heatmaps = encode_heatmaps(batch.keypoints, map_size, stride, self.config.sigma)
            pafs = encode_pafs(batch.keypoints, self.skeleton, map_size, stride, self.config.paf_width)
        x = normalise(batch.images, self.spec.preprocess)
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
            stages = self.network(x)
        report = pose_loss(stages, heatmaps, pafs, batch.masks)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(report.total).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return report

    def _loader(self) -> DataLoader:
        sampler = StepSampler(len(self.dataset), self.config.batch_size, self.config.steps, rank=self.ctx.rank,
                              world_size=self.ctx.world_size, seed=self.config.seed, start_step=self.step)
        # the loader's own generator (it only seeds worker processes): drawing from the global one would make a
        # resumed run's RNG state differ from a straight run's
        generator = torch.Generator().manual_seed(self.config.seed)
        return DataLoader(self.dataset, batch_sampler=sampler, num_workers=self.config.workers, collate_fn=collate,
                          pin_memory=self.device.type == "cuda", generator=generator)

    def fit(self, *, progress: bool = False) -> TrainResult:
        """Train until ``config.steps``; checkpoint, log and validate on the way. Returns what this call did.

        Args:
            progress: show a progress bar (loss, images per second) on stderr, rank 0 only.
        """
        from tqdm import tqdm

        cfg = self.config
        history: list[dict[str, Any]] = []
        bar = tqdm(total=cfg.steps, initial=self.step, unit="step", disable=not (progress and self.ctx.is_main),
                   dynamic_ncols=True)
        sums: dict[str, Tensor] = {}
        count = 0
        tick = time.perf_counter()
        try:
            for batch in self._loader():
                report = self.train_step(batch)
                self.step += 1
                count += 1
                for key, value in _report_tensors(report).items():
                    sums[key] = sums.get(key, 0.0) + value
                last = self.step == cfg.steps
                if self.step % cfg.log_every == 0 or last:
                    elapsed = time.perf_counter() - tick
                    record = self._log_record(sums, count, elapsed)
                    history.append(record)
                    if self.sink is not None:
                        self.sink.write(record)
                    bar.set_postfix(loss=f"{record['loss']:.4g}", img_s=f"{record['images_per_s']:.1f}")
                    sums, count, tick = {}, 0, time.perf_counter()
                bar.update(1)
                if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0 and not last:
                    self.save()
                if cfg.val_every and (self.step % cfg.val_every == 0 or last):
                    record = self.validate()
                    if record is not None:
                        history.append(record)
        except KeyboardInterrupt:
            # keep the work done so far: the run can continue with --resume
            self.save()
            raise
        except OpenPoseError as exc:
            lines = str(exc).strip().splitlines()
            if len(lines) <= 1:
                raise
            # raised in a loader worker, the message carries the worker's traceback: keep the user's one line
            prefix = f"{type(exc).__module__}.{type(exc).__qualname__}: "
            raise type(exc)(lines[-1].removeprefix(prefix)) from exc
        finally:
            bar.close()
        self.save()
        self.close()
        return TrainResult(self.step, tuple(history), self.output_dir / CHECKPOINT_NAME,
                           self.output_dir / WEIGHTS_NAME)

    def _log_record(self, sums: dict[str, Tensor], count: int, elapsed: float) -> dict[str, Any]:
        keys = sorted(sums)
        values = torch.stack([torch.as_tensor(sums[k], dtype=torch.float32, device=self.device) for k in keys])
        values = values / max(count, 1)
        if self.ctx.distributed:
            dist.all_reduce(values)
            values = values / self.ctx.world_size
        record: dict[str, Any] = {"step": self.step}
        record.update({k: float(v) for k, v in zip(keys, values.cpu())})
        if not math.isfinite(record["loss"]):
            raise OpenPoseError(f"training diverged at step {self.step} (loss {record['loss']}); lower the learning "
                                "rate or resume from an earlier checkpoint")
        record["lr"] = self.optimizer.param_groups[0]["lr"]
        record["images_per_s"] = count * self.config.batch_size / max(elapsed, 1e-9)
        return record

    def validate(self) -> dict[str, Any] | None:
        """COCO keypoint AP of the current network on the validation set (rank 0; other ranks wait, get None)."""
        cfg = self.config
        record = None
        if self.ctx.is_main:
            from ..evaluate import evaluate
            from ..inference import PoseEstimator

            estimator = PoseEstimator(self.model, self.spec, device=self.device)
            try:
                result = evaluate(estimator, cfg.val_images, cfg.val_annotations, max_images=cfg.val_max_images)
            finally:
                self.model.train()
            record = {"step": self.step, **{f"val/{k}": v for k, v in result.as_dict().items()}}
            log.info("step %d: validation AP %.4f", self.step, result.ap)
            if self.sink is not None:
                self.sink.write(record)
        if self.ctx.distributed:
            dist.barrier()
        return record

    # ---- files -----------------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The full training state (see :mod:`.checkpoint`)."""
        return {
            "step": self.step,
            "samples_seen": self.step * self.config.batch_size,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict() if self.amp else {},
            "rng": capture_rng(),
            "config": json.dumps(self.config.to_dict()),
            "spec": self.spec.name,
        }

    def save(self) -> None:
        """Write the training checkpoint and the exported weights (rank 0), atomically; all ranks synchronise."""
        if self.ctx.is_main:
            save_checkpoint(self.output_dir / CHECKPOINT_NAME, self.state())
            save_weights(self.output_dir / WEIGHTS_NAME, self.model, self.spec, metadata={"step": str(self.step)})
            log.info("step %d: checkpoint written to %s", self.step, self.output_dir)
        if self.ctx.distributed:
            dist.barrier()

    def close(self) -> None:
        """Release the metrics files and the process group this trainer created."""
        if self.sink is not None:
            self.sink.close()
            self.sink = None
        if self.ctx.owns_group and dist.is_initialized():
            dist.destroy_process_group()


def _report_tensors(report: LossReport) -> dict[str, Tensor]:
    out = {"loss": report.total.detach(), "loss/heatmaps": report.branch_total("heatmaps").detach(),
           "loss/pafs": report.branch_total("pafs").detach()}
    for i, s in enumerate(report.stages, start=1):
        for branch in ("heatmaps", "pafs"):
            value = getattr(s, branch)
            if value is not None:
                out[f"stage{i}/{branch}"] = value.detach()
    return out


def _write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2))


def train(config: TrainConfig, *, resume: str | Path | None = None, progress: bool = False) -> TrainResult:
    """Build a :class:`Trainer` and run it to ``config.steps``."""
    trainer = Trainer(config, resume=resume)
    try:
        return trainer.fit(progress=progress)
    except BaseException:
        trainer.close()
        raise

