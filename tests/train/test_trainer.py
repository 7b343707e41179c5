"""The trainer: optimiser groups, initialisation, overfitting, bit-for-bit resume, torchrun DDP, fine-tuning AP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from openpose_py import models
from openpose_py.data import AugmentConfig, collate
from openpose_py.codec.encode import encode_heatmaps, encode_pafs
from openpose_py.errors import DatasetError
from openpose_py.train.checkpoint import load_checkpoint
from openpose_py.train.config import TrainConfig, TrainConfigError
from openpose_py.train.trainer import CHECKPOINT_NAME, METRICS_NAME, VAL_SPLIT_NAME, WEIGHTS_NAME, Trainer, train
from openpose_py.train.validation import split_by_image_id

#: dev images with exactly one main person each: four samples, one step sees them all
_FOUR_IMAGES = (139, 136334, 181303, 549055)
_TINY = {"width": 0.25, "num_refinement_stages": 1}


@pytest.fixture()
def four_images(tmp_path: Path, dev_set: tuple[Path, Path]) -> tuple[Path, Path]:
    images, annotations = dev_set
    data = json.loads(annotations.read_text())
    data["images"] = [im for im in data["images"] if im["id"] in _FOUR_IMAGES]
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in _FOUR_IMAGES]
    path = tmp_path / "four.json"
    path.write_text(json.dumps(data))
    return images, path


def _config(images: Path, annotations: Path, output_dir: Path, **kw) -> TrainConfig:
    base = {"annotations": annotations, "images": images, "output_dir": output_dir, "init": "scratch",
            "arch_options": _TINY, "augment": AugmentConfig(crop_size=64), "steps": 3, "batch_size": 2,
            "workers": 0, "lr": 1e-3, "log_every": 1, "checkpoint_every": 0}
    return TrainConfig(**{**base, **kw})


def test_bad_dataset_fails_before_any_training(tmp_path: Path, dev_set: tuple[Path, Path]) -> None:
    images, annotations = dev_set
    with pytest.raises(DatasetError, match="no such image folder"):
        Trainer(_config(tmp_path / "missing", annotations, tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_the_held_out_split_takes_only_images_with_annotated_people(tmp_path: Path,
                                                                   dev_set: tuple[Path, Path]) -> None:
    """AP is undefined on images without a scored person: the default split holds out every n-th image that has one
    (a crowd-only image trains), and a given validation set without one is refused before any training."""
    images, annotations = dev_set
    data = json.loads(annotations.read_text())
    people: dict[int, int] = {}
    for ann in data["annotations"]:
        if ann.get("num_keypoints", 0) > 0 and not ann.get("iscrowd"):
            people[ann["image_id"]] = people.get(ann["image_id"], 0) + 1
    crowd = min(people)  # its people become one crowd region: nothing there to score
    for ann in data["annotations"]:
        if ann["image_id"] == crowd:
            ann["iscrowd"] = 1
    del people[crowd]
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(data))
    all_ids = [im["id"] for im in data["images"]]
    assert any(i not in people for i in split_by_image_id(all_ids, 0.2)[1]), "the old rule held out empty images"
    trainer = Trainer(_config(images, path, tmp_path / "run", val_fraction=0.2))
    held = sorted(im["id"] for im in json.loads((tmp_path / "run" / VAL_SPLIT_NAME).read_text())["images"])
    assert held == split_by_image_id(sorted(people), 0.2)[1] and held
    assert trainer.val_annotations == tmp_path / "run" / VAL_SPLIT_NAME
    empty = {**data, "images": [im for im in data["images"] if im["id"] in (crowd, *set(all_ids) - set(people))],
             "annotations": [a for a in data["annotations"] if a["image_id"] == crowd]}
    (tmp_path / "empty.json").write_text(json.dumps(empty))
    with pytest.raises(TrainConfigError, match="no annotated person"):
        Trainer(_config(images, path, tmp_path / "refused", val_images=images, val_annotations=tmp_path / "empty.json"))
    assert not (tmp_path / "refused").exists()
    # a validation file evaluation cannot score is refused at the start, not at the first validation (steps later)
    unscorable = {**data, "annotations": [{k: v for k, v in a.items() if k != "area"} for a in data["annotations"]]}
    (tmp_path / "unscorable.json").write_text(json.dumps(unscorable))
    with pytest.raises(DatasetError, match="has no area, which COCO keypoint evaluation needs"):
        Trainer(_config(images, path, tmp_path / "refused", val_images=images,
                        val_annotations=tmp_path / "unscorable.json"))
    assert not (tmp_path / "refused").exists()
    # so is a held-out part of such a training file
    with pytest.raises(TrainConfigError, match=r"has no area, which COCO keypoint evaluation needs \(to validate on a "
                                               r"held-out part of the training set; give --val-fraction 0"):
        Trainer(_config(images, tmp_path / "unscorable.json", tmp_path / "refused", val_fraction=0.2))
    assert not (tmp_path / "refused").exists()


def test_overfits_four_images(four_images: tuple[Path, Path], tmp_path: Path) -> None:
    """A reduced network (batch-norm variant, width 0.25) trained from scratch on four fixed crops: the loss falls by
    more than 70 % and each branch ends well below the trivial prediction (background everywhere, zero PAFs)."""
    images, annotations = four_images
    steps = 300
    cfg = _config(images, annotations, tmp_path / "run", steps=steps, batch_size=4, lr=2e-3,
                  arch_options={**_TINY, "variant": "original"}, augment=AugmentConfig.identity(crop_size=128),
                  log_every=1)
    trainer = Trainer(cfg)
    assert len(trainer.dataset) == 4
    batch = collate([trainer.dataset[(i, i)] for i in range(4)])
    result = trainer.fit()
    first, last = result.history[0], result.history[-1]
    assert result.step == steps and first["step"] == 1 and last["step"] == steps
    assert last["loss"] < 0.3 * first["loss"], (first, last)
    heat = encode_heatmaps(batch.keypoints, (16, 16))
    pafs = encode_pafs(batch.keypoints, trainer.skeleton, (16, 16))
    trivial = heat.clone()
    trivial[:, :-1], trivial[:, -1] = 0.0, 1.0
    stages = 2
    trivial_heat = stages * float(((heat - trivial) ** 2 * batch.masks).sum() / 8)
    trivial_pafs = stages * float((pafs ** 2 * batch.masks).sum() / 8)
    assert last["loss/heatmaps"] < 0.5 * trivial_heat, (last, trivial_heat)
    assert last["loss/pafs"] < 0.5 * trivial_pafs, (last, trivial_pafs)


def test_resume_is_bit_for_bit(four_images: tuple[Path, Path], tmp_path: Path) -> None:
    """10 steps straight == 5 steps, checkpoint, resume (with a loader worker), 5 steps: losses and weights."""
    images, annotations = four_images
    kw = {"steps": 10, "lr_step": 3, "lr_gamma": 0.5, "seed": 4}
    straight = train(_config(images, annotations, tmp_path / "a", **kw))
    first = train(_config(images, annotations, tmp_path / "b", **{**kw, "steps": 5}))
    resumed = train(_config(images, annotations, tmp_path / "b", **{**kw, "workers": 1}), resume=tmp_path / "b")
    losses = [r["loss"] for r in straight.history]
    assert len(losses) == 10 and len(set(losses)) == 10
    assert [r["loss"] for r in first.history + resumed.history] == losses
    assert [r["lr"] for r in first.history + resumed.history] == [r["lr"] for r in straight.history]
    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b" / CHECKPOINT_NAME)
    assert a["step"] == b["step"] == 10
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])
    records = [json.loads(line) for line in (tmp_path / "b" / METRICS_NAME).read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 11))


_DDP_WORKER = """
import json, sys
import torch
from openpose_py.train.config import TrainConfig
from openpose_py.train.trainer import Trainer

trainer = Trainer(TrainConfig.from_dict(json.loads(sys.argv[1])))
trainer.fit()
torch.save(trainer.model.state_dict(), f"{sys.argv[2]}/rank{trainer.ctx.rank}.pt")
"""


def _run_logged(cmd: list[str], env: dict[str, str], log: Path) -> None:
    """Run a child with its output in a file rather than pipes (the child's log stays readable after a failure).

    Pipes once crashed this process in full runs: OpenVINO had left the signal stack dangling (see
    ``openpose_py.backends.openvino_core``), so the SIGCHLD handler's frames landed in freed memory."""
    with log.open("w") as out:
        code = subprocess.call(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=300)
    assert code == 0, log.read_text()[-3000:]


def test_torchrun_two_cpu_processes_match_one(four_images: tuple[Path, Path], tmp_path: Path) -> None:
    """2 gloo processes x 1 sample == 1 process x 2 samples after 3 steps; ranks hold identical parameters."""
    images, annotations = four_images
    cfg = _config(images, annotations, tmp_path / "ddp")
    script = tmp_path / "worker.py"
    script.write_text(_DDP_WORKER)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    _run_logged([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(script),
                 json.dumps(cfg.to_dict()), str(tmp_path)], env, tmp_path / "torchrun.log")
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    # The reference run is a fresh process too: same start-up state as the ranks, nothing shared with the test run.
    (tmp_path / "single").mkdir()
    single_cfg = _config(images, annotations, tmp_path / "single" / "out")
    _run_logged([sys.executable, str(script), json.dumps(single_cfg.to_dict()), str(tmp_path / "single")], env,
                tmp_path / "single.log")
    single_state = torch.load(tmp_path / "single" / "rank0.pt", weights_only=True)
    for key, value in single_state.items():
        assert torch.equal(rank0[key], rank1[key]), key
        torch.testing.assert_close(rank0[key], value, rtol=1e-4, atol=1e-5, msg=key)
    assert not torch.equal(rank0["initial_stage.pafs.1.0.weight"],
                           models.create("lightweight", **_TINY).state_dict()["initial_stage.pafs.1.0.weight"])
    # rank 0 alone writes: one metrics record per step, the checkpoint and the weights
    records = (tmp_path / "ddp" / METRICS_NAME).read_text().splitlines()
    assert [json.loads(r)["step"] for r in records] == [1, 2, 3]
    assert (tmp_path / "ddp" / CHECKPOINT_NAME).is_file() and (tmp_path / "ddp" / WEIGHTS_NAME).is_file()


def test_one_negligible_step_saved_and_reloaded_keeps_the_pretrained_ap(four_images: tuple[Path, Path],
                                                                         tmp_path: Path) -> None:
    """Fine-tuning machinery round trip: one step at lr 1e-12 from the pretrained weights, exported, reloaded with
    PoseEstimator, gives the pretrained AP exactly (a wrong channel order, normalisation or spec would not); the
    run validates its starting point and its last step on a held-out set, and keeps the best: the start, as the step
    did not beat it."""
    from openpose_py import PoseEstimator
    from openpose_py.evaluate import evaluate

    images, annotations = four_images
    cfg = TrainConfig(annotations=annotations, images=images, output_dir=tmp_path / "ft", init="pretrained",
                      steps=1, batch_size=1, lr=1e-12, augment=AugmentConfig.identity(crop_size=64), workers=0,
                      val_images=images, val_annotations=annotations, val_max_images=2, freeze=("bn",))
    result = train(cfg)
    assert result.best is not None and result.best.is_file() and result.best_step == 0
    vals = [(r["step"], r["val/AP"]) for r in result.history if "val/AP" in r]
    assert [step for step, _ in vals] == [0, 1] and vals[0][1] == vals[1][1] == result.best_ap > 0
    tuned = PoseEstimator.from_pretrained(result.weights, height=160)
    assert tuned.spec.architecture == "lightweight" and tuned.spec.name == "lightweight-trained"
    pretrained = PoseEstimator.from_pretrained("lightweight", height=160)
    before = evaluate(pretrained, images, annotations).ap
    after = evaluate(tuned, images, annotations).ap
    assert before > 0.3 and after == before


def test_early_stop_keeps_the_best_weights(four_images: tuple[Path, Path], tmp_path: Path) -> None:
    """A random tiny network scores AP 0 at every validation: the first is the best, and with patience 1 the run
    stops at the second, having written the best weights and the validation records."""
    images, annotations = four_images
    cfg = _config(images, annotations, tmp_path / "es", steps=10, val_images=images, val_annotations=annotations,
                  val_every=2, val_max_images=1, early_stop_patience=1)
    result = train(cfg)
    assert result.stopped_early and result.step == 4
    assert (result.best_step, result.best_ap) == (2, 0.0) and result.best.is_file()
    vals = [r for r in result.history if "val/AP" in r]
    assert [(r["step"], r["val/best_step"]) for r in vals] == [(2, 2), (4, 2)]
    assert load_checkpoint(tmp_path / "es")["best"] == {"best_ap": 0.0, "best_step": 2, "stale": 1}


def test_distillation_keeps_the_network_near_its_start(four_images: tuple[Path, Path], tmp_path: Path) -> None:
    """From the same trained start and the same batches at a high rate, a run with a strong distillation term ends
    with outputs less than half as far from the start's as a run without; the teacher stays the start, also when the
    run is resumed; the term is logged; and a start that knows nothing (scratch, ImageNet) is refused."""
    from openpose_py.errors import TrainConfigError
    from openpose_py.preprocess import normalise

    images, annotations = four_images
    start = train(_config(images, annotations, tmp_path / "start", steps=20, lr=2e-3)).weights
    runs = {}
    for weight in (0.0, 50.0):
        trainer = Trainer(_config(images, annotations, tmp_path / f"kd{weight}", init=str(start), steps=10,
                                  lr=2e-3, distill=weight))
        batch = collate([trainer.dataset[(i, i)] for i in range(4)])
        x = normalise(batch.images, trainer.spec.preprocess)
        with torch.no_grad():
            before = trainer.model.eval()(x)
        trainer.model.train()
        result = trainer.fit()
        with torch.no_grad():
            after = trainer.model.eval()(x)
        drift = sum(float(((a.heatmaps - b.heatmaps) ** 2).sum() + ((a.pafs - b.pafs) ** 2).sum())
                    for a, b in zip(after, before))
        runs[weight] = (drift, result.history[-1])
        if weight:
            with torch.no_grad():
                teacher = trainer.teacher(x)
            assert all(torch.equal(t.heatmaps, b.heatmaps) for t, b in zip(teacher, before))
            # a resumed run's teacher is the start again, not the checkpoint it resumes
            resumed = Trainer(_config(images, annotations, tmp_path / f"kd{weight}", init=str(start), steps=12,
                                      lr=2e-3, distill=weight), resume=tmp_path / f"kd{weight}")
            state = resumed.teacher.state_dict()
            assert all(torch.equal(v, state[k]) for k, v in trainer.teacher.state_dict().items())
            assert not all(torch.equal(v, state[k]) for k, v in resumed.model.state_dict().items())
            resumed.close()
    assert runs[0.0][0] > 0 and runs[50.0][0] < 0.5 * runs[0.0][0], runs
    assert "loss/distill" in runs[50.0][1] and "loss/distill" not in runs[0.0][1]
    with pytest.raises(TrainConfigError, match="nothing to keep"):
        _config(images, annotations, tmp_path / "x", init="scratch", distill=1.0)


def test_a_diverging_run_stops_and_keeps_the_last_good_checkpoint(four_images: tuple[Path, Path],
                                                                  tmp_path: Path) -> None:
    """A huge learning rate on the tiny network: its loss is nan from step 2. The run stops there, naming the step,
    before the checkpoint due at step 2 replaces step 1's (the old loop looked at the loss only every log_every steps
    and saved NaN weights in between); and a step that leaves non-finite weights behind a finite loss (SGD) is not
    saved either (before, the run ended normally with them)."""
    from safetensors.torch import load_file

    from openpose_py.errors import OpenPoseError

    images, annotations = four_images
    run = tmp_path / "run"
    with pytest.raises(OpenPoseError) as caught:
        train(_config(images, annotations, run, steps=6, lr=1e30, log_every=3, checkpoint_every=1))
    assert re.fullmatch(rf"the loss became (nan|inf) at step 2: training diverged \(lower --lr\?\); the checkpoint "
                        rf"of step 1 in {re.escape(str(run))} is kept", str(caught.value)), str(caught.value)
    state = load_checkpoint(run)
    assert state["step"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert all(torch.isfinite(v).all() for v in load_file(run / WEIGHTS_NAME).values() if v.is_floating_point())
    assert not (run / METRICS_NAME).exists(), "no record of the nan steps"
    sgd = tmp_path / "sgd"
    with pytest.raises(OpenPoseError, match="^the weights became non-finite at step 1: training diverged "
                                            r"\(lower --lr\?\); no checkpoint was written$"):
        train(_config(images, annotations, sgd, steps=1, lr=1e36, optimizer="sgd", log_every=5))
    assert not (sgd / CHECKPOINT_NAME).exists() and not (sgd / WEIGHTS_NAME).exists()
    # a checkpoint holding NaN (from another tool, or an older run) is refused as a starting point, not trained on
    from openpose_py.errors import WeightsError
    from openpose_py.train.checkpoint import save_checkpoint

    name = next(k for k, v in state["model"].items() if v.is_floating_point())
    state["model"][name] = torch.full_like(state["model"][name], float("nan"))
    save_checkpoint(tmp_path / "nan.pt", state)
    with pytest.raises(WeightsError, match=rf"^{re.escape(str(tmp_path / 'nan.pt'))}: 1 of \d+ tensors hold NaN or "
                                           rf"infinite values \(the first: {re.escape(name)}\)"):
        train(_config(images, annotations, tmp_path / "from_nan", steps=1, init=str(tmp_path / "nan.pt")))
    assert not (tmp_path / "from_nan").exists()
