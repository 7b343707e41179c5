"""scripts/gpu_check.py: the prepared GPU run covers the asked-for matrix, and runs end to end (here on the CPU,
kept tiny), recording a failing configuration without stopping the others."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO_ROOT
from .conftest import load_script

needs_clip = pytest.mark.shared(load_script("gpu_check").CLIP)


def test_the_runs_are_every_network_both_precisions_both_batches_and_two_1080p_videos():
    gpu = load_script("gpu_check")
    runs = gpu.runs("cuda", list(gpu.MODELS), ["float32", "float16"], [1, 8], 10, 368, Path("im"), Path("v.mp4"))
    expected = []
    for model in ("lightweight", "cmu-coco", "cmu-body25", "cmu-mpi"):
        expected += [f"{model} {d} batch {b}" for d in ("float32", "float16") for b in (1, 8)]
        if model in ("lightweight", "cmu-coco"):
            expected.append(f"{model} video 1080p float32 batch 8")
    assert [label for label, _ in runs] == expected
    for label, args in runs:
        assert args[args.index("--device") + 1] == "cuda" and args[args.index("--height") + 1] == "368"
        assert ("--random-weights" in args) == label.startswith("cmu-"), "no VGG-19 weights offline"
        assert ("--compare-torch" in args) == ("float16" in label), "reduced precision is checked against float32"
        assert ("--video" in args) == ("video" in label)


def test_the_section_gives_the_command_and_each_goal():
    gpu = load_script("gpu_check")
    records = [{"label": "lightweight float16 batch 8", "mode": "images", "fps": 512.0, "device": "cuda:0"},
               {"label": "lightweight float32 batch 1", "mode": "images", "fps": 210.0, "device": "cuda:0"},
               {"label": "cmu-coco float32 batch 8", "mode": "images", "fps": 120.5, "device": "cuda:0",
                "random_weights": True},
               {"failed": "cmu-mpi float32 batch 1", "reason": "over its 60 s limit"}]
    text = gpu.table(records, "python3 scripts/gpu_check.py --out /tmp/o", 250.0)
    assert "python3 scripts/gpu_check.py --out /tmp/o" in text and "It took 250 s." in text
    assert "- lightweight: best 512.0 frames/s (lightweight float16 batch 8) against the goal of 400: met" in text
    assert "- cmu-coco: best 120.5 frames/s (cmu-coco float32 batch 8) against the goal of 150: not met" in text
    assert "| cmu-coco float32 batch 8 (untrained) |" in text and "- cmu-mpi float32 batch 1: over its 60 s" in text


def _check(tmp_path: Path, *args: str) -> tuple[Path, list[dict]]:
    """Run the script on the CPU over a prepared clip: its output folder and its records."""
    load_script("gpu_check").prepare(tmp_path / "data")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "gpu_check.py"), "--data", tmp_path / "data",
                           "--out", out, "--device", "cpu", "--no-tests", *args],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return out, [json.loads(line) for line in (out / "bench.jsonl").read_text().splitlines()]


@needs_clip
def test_a_tiny_dry_run_on_the_cpu_runs_end_to_end_and_records_a_failing_run(tmp_path):
    out, records = _check(tmp_path, "--models", "lightweight,no-such-model", "--video-models", "lightweight",
                          "--dtypes", "float32", "--batches", "2", "--images", "2", "--repeat", "1", "--frames", "2",
                          "--height", "64", "--limit", "120")
    good = [r for r in records if "failed" not in r]
    assert [r["label"] for r in good] == ["lightweight float32 batch 2", "lightweight video 1080p float32 batch 2"]
    assert [r["mode"] for r in good] == ["images", "video"] and good[1]["frames"] == 2 and good[1]["json"]
    assert all(r["device"] == "cpu" and r["height"] == 64 and r["fps"] > 0 for r in good)
    assert [(r["failed"], "no-such-model" in r["reason"]) for r in records if "failed" in r] == [
        ("no-such-model float32 batch 2", True)]
    section = (out / "gpu.md").read_text()
    assert section.startswith("### GPU run") and section.count("| lightweight ") == 2 and "Failed:" in section
    assert "- lightweight: best " in section and "against the goal of 400" in section
    assert sorted(p.name for p in out.iterdir()) == ["bench.jsonl", "gpu.md"], "the generated inputs are removed"


@needs_clip
def test_runs_past_the_budget_are_recorded_as_skipped(tmp_path):
    out, records = _check(tmp_path, "--budget", "0")
    assert len(records) == 18 and all(r["reason"] == "skipped: the --budget was spent" for r in records)
    assert "no run finished" in (out / "gpu.md").read_text()
