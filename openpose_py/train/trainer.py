"""The training loop: one GPU, many GPUs and machines (``torchrun``), or CPU, through one code path.

Per step: the data loader yields augmented uint8 crops, people and loss masks (:class:`openpose_py.data.CocoKeypoints`);
the trainer normalises the images, encodes heatmap and PAF targets for the whole batch on its device
(:mod:`.targets`), runs the network, and minimises the masked L2 of every stage (:mod:`.loss`). Under
``torchrun`` each process drives one device with DistributedDataParallel (:mod:`.distributed`); rank 0 alone logs
(:mod:`.metrics`), validates (:mod:`.validation`) and writes files. The network comes from :mod:`.initialise`, the
optimiser, schedule and frozen parts from :mod:`.optim`.

Outputs in ``config.output_dir``: ``checkpoint.pt`` (full training state, see :mod:`.checkpoint`),
``weights.safetensors`` (the network and its weights spec, for ``PoseEstimator.from_pretrained(path)`` and
``--weights``), ``weights.best.safetensors`` (the weights of the best validation AP so far), ``metrics.jsonl`` (one
record per log interval and per validation), ``config.json``, and ``val_split.json`` when the run holds out part of
its training images for validation. Every option and the folder itself (:func:`.outputs.check_output_dir`: no other
run's results in it) are checked before anything is written there; a run that fails before its first result takes
its start files back (:class:`.outputs.RunStart`), and a run whose loss or weights stop being finite stops before it
writes them (:mod:`.divergence`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from ..data.coco import Batch, CocoKeypoints, collate, read_annotations, scored_person
from ..errors import OpenPoseError
from ..weights import get_spec, save_weights
from .checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint
from .config import TrainConfig, TrainConfigError
from .distributed import init_distributed
from .divergence import DivergenceWatch, weights_finite
from .initialise import build_model, load_state, stored_codec
from .loss import LossReport
from .metrics import METRICS_NAME, MetricsSink, write_json
from .optim import freeze, keep_frozen_norms_in_eval, make_optimizer, make_scheduler
from .outputs import BEST_WEIGHTS_NAME, CHECKPOINT_NAME, CONFIG_NAME, WEIGHTS_NAME, RunStart, check_output_dir
from .sampling import StepSampler
from .targets import batch_loss
from .validation import VAL_SPLIT_NAME, BestTracker, split_training_set, write_split

__all__ = ["Trainer", "TrainResult", "train", "CHECKPOINT_NAME", "WEIGHTS_NAME", "BEST_WEIGHTS_NAME",
           "METRICS_NAME"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    """What a :meth:`Trainer.fit` call did: the step reached, the records it logged, the files it wrote (``best``:
    the weights of the best validation AP, None without validation), and the best AP and its step."""

    step: int
    history: tuple[dict[str, Any], ...]
    checkpoint: Path
    weights: Path
    best: Path | None = None
    best_ap: float | None = None
    best_step: int | None = None
    stopped_early: bool = False


class Trainer:
    """Trains one network as ``config`` describes.

    Args:
        config: the run.
        resume: a training checkpoint (or an output directory holding one) to continue from: network, optimiser,
            schedule, gradient scaler, step, data position and RNG states are restored, so that the continued run
            matches an uninterrupted one.

    Raises:
        DatasetError, WeightsError, TrainConfigError, DistributedError, OutputError: unusable data, weights,
            options, ``torchrun`` variables or output folder (one holding another run's results, unless ``resume``
            continues it), before anything is written.
    """

    def __init__(self, config: TrainConfig, *, resume: str | Path | None = None) -> None:
        self.config = config
        self.ctx, self.device, self._owns_group = init_distributed(config)
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
        self.output_dir = config.output_dir
        check_output_dir(self.output_dir, resume)
        train_ids, held_out = split_training_set(config)
        self.dataset = CocoKeypoints(config.images, config.annotations, spec.skeleton, config.augment, config.data,
                                     seed=config.seed, image_ids=train_ids)
        self.val_images, self.val_annotations = config.val_images, config.val_annotations
        # checked as evaluation will read it, now rather than at the first validation
        if config.val_annotations is not None and not any(scored_person(a) for a in read_annotations(
                config.val_annotations, evaluation=True)[0]["annotations"]):
            raise TrainConfigError(f"{config.val_annotations}: no annotated person (with keypoints, not a crowd) to "
                                   "validate on, so its AP is undefined")
        if held_out:
            self.val_images, self.val_annotations = config.images, self.output_dir / VAL_SPLIT_NAME
        checkpoint = load_checkpoint(resume, map_location="cpu") if resume is not None else None
        resumed_codec = stored_codec(checkpoint, str(resume)) if checkpoint is not None else None
        self.model, self.spec = build_model(config, load_init=checkpoint is None, codec=resumed_codec)
        self.skeleton = self.spec.skeleton
        # the targets are encoded by the codec the written weights carry: the convention cannot drift between them
        assert self.spec.codec.skeleton == self.dataset.skeleton and self.spec.codec.stride == config.augment.stride
        # the initial network, frozen, for the distillation term (rebuilt from config.init when resuming)
        self.teacher: nn.Module | None = None
        if config.distill > 0:
            self.teacher = build_model(config)[0].eval().requires_grad_(False).to(self.device)
        frozen = freeze(self.model, config.freeze)
        self.model.to(self.device)
        self._train_mode()
        self.optimizer = make_optimizer(self.model, config.optimizer, config.lr, config.weight_decay,
                                        config.refinement_lr_mult, config.momentum)
        self.scheduler = make_scheduler(self.optimizer, config.warmup_steps, config.lr_step, config.lr_gamma)
        self.tracker = BestTracker(config.early_stop_patience)
        self.amp = config.amp and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.step = 0
        self.watch = DivergenceWatch(self.device)
        if checkpoint is not None:
            self._restore(checkpoint)
        # the step of the checkpoint in the output folder, for a diverged run's message
        self._saved = self.step if checkpoint is not None and (self.output_dir / CHECKPOINT_NAME).is_file() else None
        self.network: nn.Module = self.model
        if self.ctx.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.network = DistributedDataParallel(self.model, device_ids=ids)
        self.sink: MetricsSink | None = None
        self._start: RunStart | None = None
        if self.ctx.is_root:
            self._start = RunStart(self.output_dir)
            try:
                self.sink = MetricsSink(self.output_dir, config.tensorboard)
                self._start.write(self.output_dir / CONFIG_NAME, lambda path: write_json(path, config.to_dict()))
                if held_out:
                    self._start.write(self.val_annotations,
                                      lambda path: write_split(config.annotations, held_out, path))
            except BaseException:
                self._start.undo()
                raise
        log.info("training %s on %s (%d samples), %d process(es), device %s, from step %d, %d frozen parameter "
                 "tensors", config.model, config.annotations, len(self.dataset), self.ctx.world_size, self.device,
                 self.step, len(frozen))

    # ---- set-up ----------------------------------------------------------------------------------------------------
    def _train_mode(self) -> None:
        self.model.train()
        keep_frozen_norms_in_eval(self.model)

    def _restore(self, state: dict[str, Any]) -> None:
        load_state(self.model, state["model"], "the checkpoint")
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.step = int(state["step"])
        if state.get("best"):
            self.tracker.restore(state["best"])
        restore_rng(state["rng"])
        saved = json.loads(state["config"])
        if saved.get("batch_size") != self.config.batch_size or saved.get("seed") != self.config.seed:
            log.warning("resuming with a different batch size or seed than the checkpoint's: the data order changes")

    # ---- the loop --------------------------------------------------------------------------------------------------
    def train_step(self, batch: Batch) -> LossReport:
        """One optimiser step on a (local) batch; returns its loss report."""
        batch = batch.to(self.device, non_blocking=True)
        report = batch_loss(self.network, batch, self.spec, amp=self.amp, teacher=self.teacher,
                            **self.config.loss_options())
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
        stopped = False
        bar = tqdm(total=cfg.steps, initial=self.step, unit="step", disable=not (progress and self.ctx.is_root),
                   dynamic_ncols=True)
        sums: dict[str, Tensor] = {}
        count = 0
        tick = time.perf_counter()
        try:
            if self.step == 0 and self.val_annotations is not None and cfg.starts_trained:
                # the starting point is a candidate too: the best weights are the initial ones until training beats
                # them
                record = self.validate()
                if record is not None:
                    history.append(record)
            for batch in self._loader():
                report = self.train_step(batch)
                self.step += 1
                self.watch.update(self.step, report.total)
                count += 1
                for key, value in report.parts().items():
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
                due = last or (cfg.val_every and self.step % cfg.val_every == 0)
                if self.val_annotations is not None and due:
                    record = self.validate()
                    if record is not None:
                        history.append(record)
                    if self._rank0_says(self.tracker.should_stop):
                        stopped = True
                        log.info("step %d: no better validation AP for %d validations (best %.4f at step %d); "
                                 "stopping early", self.step, self.tracker.stale, self.tracker.best_ap,
                                 self.tracker.best_step)
                        break
                # after validation, so that the checkpoint knows the best AP so far
                if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0 and not last:
                    self.save()
            self.save()
        except KeyboardInterrupt:
            # keep the work done so far: the run can continue with --resume (unless it diverged: then the last
            # good checkpoint stays)
            try:
                self.save()
            except OpenPoseError as exc:
                log.warning("interrupted; %s", exc)
            raise
        except BaseException as exc:
            if self._start is not None:
                self._start.undo()  # nothing to show for it: no config.json that looks like a run
            lines = str(exc).strip().splitlines()
            if not isinstance(exc, OpenPoseError) or len(lines) <= 1:
                raise
            # raised in a loader worker, the message carries the worker's traceback: keep the user's one line
            prefix = f"{type(exc).__module__}.{type(exc).__qualname__}: "
            raise type(exc)(lines[-1].removeprefix(prefix)) from exc
        finally:
            bar.close()
        self.close()
        tracked = self.tracker.best_step >= 0
        return TrainResult(self.step, tuple(history), self.output_dir / CHECKPOINT_NAME,
                           self.output_dir / WEIGHTS_NAME, self.output_dir / BEST_WEIGHTS_NAME if tracked else None,
                           self.tracker.best_ap if tracked else None, self.tracker.best_step if tracked else None,
                           stopped)

    def _rank0_says(self, flag: bool) -> bool:
        """Rank 0's ``flag``, on every rank."""
        if not self.ctx.distributed:
            return flag
        value = torch.tensor([float(flag)], device=self.device)
        dist.broadcast(value, 0)
        return bool(value.item())

    def _stop_unless_finite(self, weights: bool = True) -> None:
        """Stop the run, before anything is logged, validated or saved from them, when a step's loss so far (or,
        with ``weights``, a weight) is not finite; every rank calls it."""
        first = self.watch.first(self.ctx.distributed)
        if first is not None:
            problem = f"the loss became {first[1]} at step {first[0]}"
        elif weights and not weights_finite(self.model):
            problem = f"the weights became non-finite at step {self.step}"
        else:
            return
        kept = (f"the checkpoint of step {self._saved} in {self.output_dir} is kept" if self._saved is not None
                else "no checkpoint was written")
        raise OpenPoseError(f"{problem}: training diverged (lower --lr?); {kept}")

    def _log_record(self, sums: dict[str, Tensor], count: int, elapsed: float) -> dict[str, Any]:
        self._stop_unless_finite(weights=False)
        keys = sorted(sums)
        values = torch.stack([torch.as_tensor(sums[k], dtype=torch.float32, device=self.device) for k in keys])
        values = values / max(count, 1)
        if self.ctx.distributed:
            dist.all_reduce(values)
            values = values / self.ctx.world_size
        record: dict[str, Any] = {"step": self.step}
        record.update({k: float(v) for k, v in zip(keys, values.cpu())})
        if not math.isfinite(record["loss"]):  # finite steps whose mean overflows
            raise OpenPoseError(f"the mean loss became {record['loss']} by step {self.step}: training diverged "
                                "(lower --lr?)")
        record["lr"] = self.optimizer.param_groups[0]["lr"]
        record["images_per_s"] = count * self.config.batch_size / max(elapsed, 1e-9)
        return record

    def validate(self) -> dict[str, Any] | None:
        """COCO keypoint AP of the current network on the validation set (rank 0; other ranks wait, get None)."""
        cfg = self.config
        record = None
        self._stop_unless_finite()
        if self.ctx.is_root:
            from ..evaluate import evaluate
            from ..inference import PoseEstimator

            estimator = PoseEstimator(self.model, self.spec, device=self.device)
            try:
                result = evaluate(estimator, self.val_images, self.val_annotations, max_images=cfg.val_max_images)
            finally:
                self._train_mode()
            record = {"step": self.step, **{f"val/{k}": v for k, v in result.as_dict().items()}}
            if self.tracker.update(self.step, result.ap):
                save_weights(self.output_dir / BEST_WEIGHTS_NAME, self.model, self.spec,
                             metadata={"step": str(self.step), "val_ap": f"{result.ap:.6f}"})
            record["val/best_AP"] = self.tracker.best_ap
            record["val/best_step"] = self.tracker.best_step
            log.info("step %d: validation AP %.4f (best %.4f at step %d)", self.step, result.ap,
                     self.tracker.best_ap, self.tracker.best_step)
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
            "best": self.tracker.state(),
            "spec": self.spec.name,
            "codec": self.spec.codec.to_dict(),
        }

    def save(self) -> None:
        """Write the training checkpoint and the exported weights (rank 0), atomically; all ranks synchronise.

        Raises:
            OpenPoseError: the run diverged (a loss or a weight is not finite); the files on disk are left as they
                were.
        """
        self._stop_unless_finite()
        if self.ctx.is_root:
            save_checkpoint(self.output_dir / CHECKPOINT_NAME, self.state())
            save_weights(self.output_dir / WEIGHTS_NAME, self.model, self.spec, metadata={"step": str(self.step)})
            log.info("step %d: checkpoint written to %s", self.step, self.output_dir)
        self._saved = self.step
        if self.ctx.distributed:
            dist.barrier()

    def close(self) -> None:
        """Release the metrics files and the process group this trainer created."""
        if self.sink is not None:
            self.sink.close()
            self.sink = None
        if self._owns_group and dist.is_initialized():
            dist.destroy_process_group()



def train(config: TrainConfig, *, resume: str | Path | None = None, progress: bool = False) -> TrainResult:
    """Build a :class:`Trainer` and run it to ``config.steps``."""
    trainer = Trainer(config, resume=resume)
    try:
        return trainer.fit(progress=progress)
    except BaseException:
        trainer.close()
        raise

