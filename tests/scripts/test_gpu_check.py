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


def test_the_runs_are_both_models_both_precisions_both_batches_and_a_video_each():
    gpu = load_script("gpu_check")
    runs = gpu.runs("cuda", list(gpu.MODELS), ["float32", "float16"], [1, 8], 10, 368, Path("im"), Path("v.mp4"))
    expected = []
    for model in ("lightweight", "cmu-coco"):
        expected += [f"{model} {d} batch {b}" for d in ("float32", "float16") for b in (1, 8)]
        expected.append(f"{model} video float32 batch 1")
    assert [label for label, _ in runs] == expected
    for label, args in runs:
        assert args[args.index("--device") + 1] == "cuda" and args[args.index("--height") + 1] == "368"
        assert ("--random-weights" in args) == label.startswith("cmu-coco"), "no cmu-coco weights offline"
        assert ("--compare-torch" in args) == ("float16" in label), "reduced precision is checked against float32"
        assert ("--video" in args) == ("video" in label)


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
def test_it_runs_end_to_end_and_records_a_failing_run(tmp_path):
    out, records = _check(tmp_path, "--models", "lightweight,no-such-model", "--dtypes", "float32,bfloat16",
                          "--batches", "2", "--repeat", "1", "--frames", "3", "--height", "96", "--limit", "300")
    good = [r for r in records if "failed" not in r]
    assert [r["label"] for r in good] == ["lightweight float32 batch 2", "lightweight bfloat16 batch 2",
                                          "lightweight video float32 batch 1"]
    assert [r["mode"] for r in good] == ["images", "images", "video"] and good[2]["frames"] == 3
    assert all(r["device"] == "cpu" and r["height"] == 96 and r["fps"] > 0 for r in good)
    assert "max_abs_diff_pafs" in good[1] and "max_abs_diff_pafs" not in good[0]
    failed = [r for r in records if "failed" in r]
    assert [r["failed"] for r in failed] == ["no-such-model float32 batch 2", "no-such-model bfloat16 batch 2",
                                             "no-such-model video float32 batch 1"]
    assert all("no-such-model" in r["reason"] for r in failed), failed
    table = (out / "gpu.md").read_text()
    assert table.count("| lightweight ") == 3 and "Failed:" in table
    assert sorted(p.name for p in out.iterdir()) == ["bench.jsonl", "gpu.md"], "the generated inputs are removed"


@needs_clip
def test_runs_past_the_budget_are_recorded_as_skipped(tmp_path):
    out, records = _check(tmp_path, "--budget", "0")
    assert len(records) == 10 and all(r["reason"] == "skipped: the --budget was spent" for r in records)
    assert "no run finished" in (out / "gpu.md").read_text()
