"""``openpose-py train``: config file + option overrides, outputs usable by ``image``/``eval --weights``, bad input."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from openpose_py import PoseEstimator

from .conftest import error_of

_TINY_TOML = """
model = "lightweight"
init = "scratch"
steps = 50
batch_size = 2
workers = 0
log_every = 1
arch_options = {{ width = 0.25, num_refinement_stages = 1 }}
annotations = "{annotations}"

[augment]
crop_size = 96
max_rotation = 10.0
"""


def test_train_from_config_file_then_use_the_weights(invoke, dev_set: tuple[Path, Path], tmp_path: Path) -> None:
    images, annotations = dev_set
    config = tmp_path / "run.toml"
    config.write_text(_TINY_TOML.format(annotations=annotations))
    out = tmp_path / "run"
    result = invoke("train", "--config", config, "--images", images, "--output-dir", out, "--steps", 2, "--lr", 1e-3,
                    "--val-images", images, "--val-annotations", annotations, "--val-every", 2,
                    "--val-max-images", 2, "--no-progress")
    assert result.exit_code == 0, result.output
    assert "step 2: weights" in result.stdout
    assert f"best validation AP 0.0000 at step 2: {out / 'weights.best.safetensors'}" in result.stdout
    saved = json.loads((out / "config.json").read_text())
    # the file's values, overridden by the options
    assert saved["steps"] == 2 and saved["lr"] == 1e-3 and saved["batch_size"] == 2
    assert saved["augment"]["crop_size"] == 96 and saved["augment"]["max_rotation"] == 10.0
    assert saved["arch_options"] == {"num_refinement_stages": 1, "width": 0.25}
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    losses = [r for r in records if "loss" in r]
    assert [r["step"] for r in losses] == [1, 2] and all(r["images_per_s"] > 0 for r in losses)
    validation = [r for r in records if "val/AP" in r]
    assert len(validation) == 1 and validation[0]["step"] == 2 and validation[0]["val/num_images"] == 2
    weights = out / "weights.safetensors"
    est = PoseEstimator.from_pretrained(weights)
    assert est.spec.builder_kwargs["width"] == 0.25
    photo = sorted(images.glob("*.jpg"))[0]
    shown = invoke("image", photo, "--weights", weights, "--height", 96, "--json-dir", tmp_path / "json")
    assert shown.exit_code == 0, shown.output
    assert (tmp_path / "json" / f"{photo.stem}_keypoints.json").is_file()
    scored = invoke("eval", "--weights", weights, "--height", 96, "--images", images, "--annotations", annotations,
                    "--max-images", 2)
    assert scored.exit_code == 0, scored.output
    # continue the run to step 3 from its checkpoint
    resumed = invoke("train", "--resume", out, "--steps", 3, "--no-progress")  # the checkpoint knows the rest
    assert resumed.exit_code == 0, resumed.output
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 2, 3, 3]  # validation records at step 2 and at the last step
    assert json.loads((out / "config.json").read_text()) == {**saved, "steps": 3}


def test_bad_input_is_one_line(invoke, dev_set: tuple[Path, Path], tmp_path: Path) -> None:
    images, annotations = dev_set
    not_coco = tmp_path / "list.json"
    not_coco.write_text("[1, 2]")
    wrong_types = tmp_path / "types.toml"
    wrong_types.write_text("augment = 3\n")
    base = ("train", "--output-dir", tmp_path / "out", "--init", "scratch", "--no-progress")
    cases = [
        ((*base, "--images", images, "--annotations", not_coco), "not a COCO annotation file"),
        ((*base, "--images", tmp_path, "--annotations", annotations), "no image files"),
        ((*base, "--images", images, "--annotations", annotations, "--model", "nope"), "unknown weights 'nope'"),
        ((*base, "--images", images, "--annotations", annotations, "--steps", 0), "steps must be positive"),
        ((*base, "--images", images), "missing training option(s): annotations"),
        ((*base, "--images", images, "--annotations", annotations, "--arch-option", "width"), "KEY=VALUE"),
        (("train", "--config", tmp_path / "absent.toml"), "no such config file"),
        (("train", "--config", wrong_types), "augment must be a table, got 3"),
    ]
    if importlib.util.find_spec("tensorboard") is None:
        cases.append(((*base, "--images", images, "--annotations", annotations, "--arch-option", "width=0.25",
                       "--tensorboard"), "pip install 'openpose-py[tensorboard]'"))
    for args, expected in cases:
        result = invoke(*args)
        assert result.exit_code != 0, args
        assert expected in error_of(result), (args, error_of(result))
    assert not (tmp_path / "out" / "checkpoint.pt").exists()


def test_bad_values_are_one_line_and_write_nothing(invoke, dev_set: tuple[Path, Path], tmp_path: Path) -> None:
    """Failures of a hardening sweep: each of these ended in a traceback (numpy's seed check, the network builder,
    cv2 out of memory, a division by a zero stride, torch's device parser and CUDA calls), a run that saved NaN
    weights and exited 0 (lr inf), or a misleading error after config.json and val_split.json were written; each is
    now one line, before anything is written."""
    images, annotations = dev_set
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    out = tmp_path / "o" / "run"
    base = ("train", "--annotations", annotations, "--images", images, "--steps", 1, "--batch-size", 1,
            "--crop-size", 64, "--workers", 0, "--val-fraction", 0, "--init", "scratch", "--arch-option",
            "width=0.25", "--no-progress")

    def config(text: str) -> tuple[str, Path]:
        path = tmp_path / f"c{len(list(tmp_path.glob('c*.toml')))}.toml"
        path.write_text(text)
        return "--config", path

    cases = [
        (("--device", "tpu"), "unknown device 'tpu'; training runs on cpu, cuda, cuda:N or mps"),
        (("--seed", -1), "seed must lie in [0, 4294967295], got -1"),
        (("--seed", 99999999999999999999), "seed must lie in [0, 4294967295], got 99999999999999999999"),
        (("--arch-option", "width=0"), "invalid network options {'width': 0} for lightweight: width must be a "
                                       "positive number, got 0"),
        (config("arch_options = { num_refinement_stages = -1 }\n"),
         "invalid network options {'num_refinement_stages': -1, 'width': 0.25} for lightweight: "
         "num_refinement_stages must be >= 0, got -1"),
        (("--crop-size", 100000), "augment.crop_size must be a multiple of the stride 8 from 8 to 4096, got 100000"),
        (config("[augment]\nstride = 0\n"), "augment.stride must be a positive integer, got 0"),
        (config("[augment]\ncenter_jitter = -5\n"), "augment.center_jitter must be >= 0, got -5"),
        (config("[augment]\nmax_rotation = nan\n"), "augment.max_rotation must be finite, got nan"),
        (config('optimizer = "sgd"\nmomentum = -1\n'), "momentum must lie in [0, 1), got -1"),
        (("--lr", "inf"), "lr must be a finite number, got inf"),
        (("--val-max-images", 0, "--val-fraction", 0.5),
         "val_max_images must be positive (leave it unset for all images), got 0"),
        (config("val_max_images = -1\nval_fraction = 0.5\n"),
         "val_max_images must be positive (leave it unset for all images), got -1"),
        (("--output-dir", blocker), f"cannot write to output directory {blocker}: {blocker} is a file, not a folder"),
        (("--output-dir", blocker / "run"),
         f"cannot write to output directory {blocker / 'run'}: {blocker} is a file, not a folder"),
    ]
    if not torch.cuda.is_available():
        cases.append((("--device", "cuda"), "no CUDA device: "))
    for extra, expected in cases:
        args = (*base, "--output-dir", out, *extra) if "--output-dir" not in extra else (*base, *extra)
        result = invoke(*args)
        assert result.exit_code == 1, (extra, result.output)
        assert error_of(result).startswith(expected), (extra, error_of(result))
        assert not (tmp_path / "o").exists(), extra
    assert blocker.read_text() == "mine"


def test_a_folder_holding_a_run_is_continued_with_resume_only(invoke, dev_set: tuple[Path, Path],
                                                              tmp_path: Path) -> None:
    """Failure: a second run into a folder holding a finished one silently replaced its checkpoint, weights and
    config and appended to its metrics (step 2, then step 1 again). It is refused, saying how to continue; --resume
    of that run continues it, an empty folder takes a new run, and another run's checkpoint is not continued there."""
    images, annotations = dev_set
    common = ("train", "--annotations", annotations, "--images", images, "--batch-size", 1, "--crop-size", 64,
              "--workers", 0, "--val-fraction", 0, "--init", "scratch", "--arch-option", "width=0.25",
              "--log-every", 1, "--no-progress")
    run, other, empty = tmp_path / "run", tmp_path / "other", tmp_path / "empty"
    empty.mkdir()
    for folder in (run, other, empty):
        result = invoke(*common, "--output-dir", folder, "--steps", 1)
        assert result.exit_code == 0, result.output
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    again = invoke(*common, "--output-dir", run, "--steps", 2)
    assert again.exit_code == 1
    assert error_of(again) == (f"--output-dir {run} already holds a training run (checkpoint.pt, weights.safetensors, "
                               f"metrics.jsonl); continue it with --resume {run / 'checkpoint.pt'}, or choose another "
                               "--output-dir")
    foreign = invoke(*common, "--output-dir", run, "--resume", other / "checkpoint.pt", "--steps", 2)
    assert foreign.exit_code == 1
    assert error_of(foreign).startswith(f"--output-dir {run} already holds another training run")
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before, "the finished run was touched"
    resumed = invoke(*common, "--output-dir", run, "--resume", run / "checkpoint.pt", "--steps", 2)
    assert resumed.exit_code == 0, resumed.output
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2]


@pytest.mark.parametrize("env, expected", [({"WORLD_SIZE": "two"}, "$WORLD_SIZE must be an integer, got 'two'"),
                                           ({"RANK": "3", "WORLD_SIZE": "2"}, "rank 3 is not within a world of size 2")])
def test_unusable_torchrun_variables_are_one_line(invoke, dev_set: tuple[Path, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                  expected: str) -> None:
    images, annotations = dev_set
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = invoke("train", "--output-dir", tmp_path / "out", "--init", "scratch", "--no-progress", "--images",
                    images, "--annotations", annotations, "--arch-option", "width=0.25")
    assert result.exit_code == 1
    assert error_of(result) == expected
    assert not (tmp_path / "out").exists()


def test_an_unloadable_checkpoint_is_one_line(invoke, dev_set: tuple[Path, Path], tmp_path: Path) -> None:
    images, annotations = dev_set
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    for option in ("--resume", "--init"):
        result = invoke("train", option, empty, "--output-dir", tmp_path / "out", "--no-progress", "--images", images,
                        "--annotations", annotations)
        assert result.exit_code == 1, result.output
        assert error_of(result) == f"{empty}: not a PyTorch file that loads with weights_only (it ends early: empty or " \
                                   "cut short)"
    assert not (tmp_path / "out").exists()


def test_unreadable_image_in_a_loader_worker_is_one_line(invoke, dev_set: tuple[Path, Path], tmp_path: Path) -> None:
    images, annotations = dev_set
    data = json.loads(annotations.read_text())
    data["images"] = [im for im in data["images"] if im["id"] == 139]
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] == 139]
    subset = tmp_path / "one.json"
    subset.write_text(json.dumps(data))
    broken = tmp_path / "images"
    broken.mkdir()
    (broken / data["images"][0]["file_name"]).write_bytes(b"not a jpeg")
    result = invoke("train", "--annotations", subset, "--images", broken, "--output-dir", tmp_path / "out",
                    "--init", "scratch", "--arch-option", "width=0.25", "--crop-size", 64, "--steps", 2,
                    "--batch-size", 1, "--workers", 1, "--no-progress")
    assert result.exit_code != 0
    assert error_of(result).startswith("image 139 of one.json: not a readable image")
    # it failed before its first step: no config.json that looks like a run, no folder made for it
    assert not (tmp_path / "out").exists()


def test_check_targets_reports_each_stage_and_branch(invoke, dev_set: tuple[Path, Path], tmp_path: Path) -> None:
    """The step-0 check: the pretrained network's loss against our targets sits below a random network's on every
    stage and branch (far below for heatmaps), and each stage's branch has its target scale; nothing is trained or
    written."""
    images, annotations = dev_set
    out = tmp_path / "out"
    result = invoke("train", "--annotations", annotations, "--images", images, "--output-dir", out,
                    "--crop-size", 128, "--no-augment", "--check-targets", "--threads", 2)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split() == ["loss", "network", "random", "ratio", "scale"]
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[2:]}
    assert set(rows) == {"loss", "loss/heatmaps", "loss/pafs", "stage1/heatmaps", "stage1/pafs", "stage2/heatmaps",
                         "stage2/pafs"}
    for key, cells in rows.items():
        network, random, ratio = (float(v) for v in cells[:3])
        # PAFs are the harder branch: a random network's small outputs are near the all-zero guess already
        assert network < (0.1 if "heatmaps" in key else 0.8) * random, (key, cells)
        assert ratio == pytest.approx(network / random, abs=2e-3)
        assert (cells[3] == "-") == key.startswith("loss"), (key, cells)
        if key.startswith("stage"):
            assert 0.5 < float(cells[3]) < 2.0, (key, cells)
    assert not out.exists()


def test_target_options_reach_the_check(invoke, dev_set: tuple[Path, Path], tmp_path: Path) -> None:
    """``--sigma`` and ``--paf-width`` set the targets the check (and a run) uses: wider targets ask more of the
    network's outputs, so their scale grows; a width that is not positive is refused before anything runs."""
    images, annotations = dev_set
    common = ("train", "--annotations", annotations, "--images", images, "--output-dir", tmp_path / "out",
              "--crop-size", 128, "--no-augment", "--check-targets", "--threads", 2)

    def scales(*extra: object) -> dict[str, float]:
        result = invoke(*common, *extra)
        assert result.exit_code == 0, result.output
        return {line.split()[0]: float(line.split()[-1]) for line in result.stdout.splitlines()[2:]
                if line.startswith("stage")}

    narrow, wide = scales(), scales("--sigma", 9, "--paf-width", 2)
    assert wide["stage2/pafs"] > narrow["stage2/pafs"] and wide["stage2/heatmaps"] > narrow["stage2/heatmaps"]
    refused = invoke(*common, "--paf-width", 0)
    assert refused.exit_code == 2 and "--paf-width" in error_of(refused)


def test_the_finetune_recipe_sets_its_options_and_explicit_ones_win(invoke, dev_set: tuple[Path, Path],
                                                                     tmp_path: Path) -> None:
    """``--recipe finetune`` starts from the library's recipe (the CLI's copy of the names matches it), an explicit
    option overrides one of its values, and the run validates its starting weights, so that the best checkpoint is
    named even when no step beat the start."""
    from openpose_py.cli.train import RECIPE_NAMES
    from openpose_py.train.config import RECIPES

    assert RECIPE_NAMES == tuple(RECIPES)
    images, annotations = dev_set
    out = tmp_path / "ft"
    # a config file that names one augmentation key keeps the rest of the recipe's augmentation table
    (tmp_path / "ft.toml").write_text("[augment]\nmax_rotation = 5.0\n")
    result = invoke("train", "--recipe", "finetune", "--config", tmp_path / "ft.toml", "--annotations", annotations,
                    "--images", images, "--output-dir", out, "--steps", 2, "--val-max-images", 2, "--workers", 0,
                    "--threads", 2, "--no-progress")
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "config.json").read_text())
    recipe = RECIPES["finetune"]
    for key in ("init", "optimizer", "lr", "refinement_lr_mult", "warmup_steps", "distill", "batch_size",
                "val_every"):
        assert saved[key] == recipe[key], key
    assert saved["freeze"] == recipe["freeze"] and saved["steps"] == 2
    assert (saved["augment"]["crop_size"], saved["augment"]["max_rotation"]) == (recipe["augment"]["crop_size"], 5.0)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "val/AP" in r] == [0, 2]
    assert "loss/distill" in next(r for r in records if "loss" in r)
    assert "best validation AP" in result.stdout and (out / "weights.best.safetensors").is_file()


def test_val_fraction_0_turns_the_recipes_validation_off(invoke, dev_set: tuple[Path, Path], tmp_path: Path) -> None:
    """Failure: ``--recipe finetune --val-fraction 0`` (no held-out split, as ``--help`` offers) was refused with
    'val_every needs val_images and val_annotations, or a val_fraction', because the recipe validates every 50
    steps; the option that turns the split off now turns off the recipe's schedule for it too."""
    images, annotations = dev_set
    out = tmp_path / "ft"
    common = ("--recipe", "finetune", "--annotations", annotations, "--images", images, "--workers", 0,
              "--threads", 2, "--no-progress", "--val-fraction", 0)
    result = invoke("train", *common, "--output-dir", out, "--steps", 1)
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "config.json").read_text())
    assert (saved["val_fraction"], saved["val_every"]) == (0, 0)
    assert not any("val/AP" in json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines())
    assert not (out / "weights.best.safetensors").exists() and (out / "weights.safetensors").is_file()
    # asking for validation and for no split at once is still a contradiction
    refused = invoke("train", *common, "--output-dir", tmp_path / "both", "--steps", 1, "--val-every", 5)
    assert refused.exit_code != 0
    assert error_of(refused) == "val_every needs val_images and val_annotations, or a val_fraction"
    assert not (tmp_path / "both").exists()
