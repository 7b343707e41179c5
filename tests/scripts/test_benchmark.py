"""scripts/benchmark.py: one well-formed JSON line per run, in both modes, with the real network (kept tiny)."""

from __future__ import annotations

import json
import pytest

from openpose_py.models.flops import network_macs

from ..conftest import DEV_SET, SHARED
from .conftest import load_script

VIDEO = SHARED / "data" / "videos" / "five_frames_960x540.mp4"
STAGES = ("preprocess", "network", "decode", "total")
TINY = ("--height", "128", "--threads", "2", "--warmup", "1", "--repeat", "1")


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmark")


def _run(bench, capsys, *args) -> dict:
    assert bench.main([str(a) for a in args]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


@pytest.mark.shared("data/coco-val2017-dev")
def test_images_mode_reports_every_stage(bench, capsys):
    record = _run(bench, capsys, "--images", DEV_SET / "images", "--max-images", "2", *TINY)
    assert record["mode"] == "images" and record["images"] == 2 and record["timed_images"] == 2
    for stage in STAGES:
        p10, median, p90 = (record[f"{stage}_p10_ms"], record[f"{stage}_ms"], record[f"{stage}_p90_ms"])
        assert 0 < p10 <= median <= p90
    assert record["fps"] == pytest.approx(1000 / record["total_ms"], rel=1e-3)
    assert record["peak_rss_mb"] > 0 and record["cuda_max_allocated_mb"] is None
    # the default backend is auto: the shipped model's INT8 IR on this CPU
    assert record["backend"] == "openvino-int8" and record["threads"] == 2 and record["torch"]
    # the cost of the inputs that ran (height 128, each dev photo's own width) and the rate achieved on them
    assert 0.5 < record["network_gmacs"] < 2.0
    assert record["network_gmac_per_s"] > 0


@pytest.mark.shared("data/coco-val2017-dev")
def test_random_weights_time_a_network_without_its_weights_file(bench, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENPOSE_PY_WEIGHTS_DIR", str(tmp_path))  # nothing to find: the weights are not needed
    monkeypatch.setenv("OPENPOSE_PY_OFFLINE", "1")
    record = _run(bench, capsys, "--images", DEV_SET / "images", "--max-images", "1", "--model", "lightweight",
                  "--random-weights", *TINY)
    assert record["random_weights"] and record["network_ms"] > 0 and record["network_gmacs"] > 0
    with pytest.raises(SystemExit, match="exclude each other"):
        bench.main(["--images", str(DEV_SET / "images"), "--random-weights", "--weights", str(tmp_path / "w.pth")])


@pytest.mark.shared("data/coco-val2017-dev")
def test_batches_on_a_cpu_backend(bench, capsys, tmp_path):
    record = _run(bench, capsys, "--images", DEV_SET / "images", "--max-images", "3", "--batch-size", "2",
                  "--backend", "onnxruntime", "--compare-torch", *TINY)
    assert record["backend"] == "onnxruntime" and record["batch_size"] == 2 and record["timed_images"] == 3
    assert record["network_ms"] > 0
    assert 0 <= record["max_abs_diff_heatmaps"] < 1e-3 and 0 <= record["max_abs_diff_pafs"] < 1e-3


@pytest.mark.shared("data/videos/five_frames_960x540.mp4")
def test_video_mode_runs_the_library_pipeline(bench, capsys, tmp_path):
    out = tmp_path / "rendered.mp4"
    record = _run(bench, capsys, "--video", VIDEO, "--max-frames", "3", "--render-output", out, "--height", "128",
                  "--threads", "2")
    assert record["mode"] == "video" and record["frames"] == 3 and record["rendered"]
    assert record["fps"] > 0 and record["network_ms"] > 0 and out.stat().st_size > 0
    # 960x540 at height 128: a 128x232 input (width padded to the stride)
    assert record["network_gmacs"] == pytest.approx(network_macs("lightweight", 128, 232) / 1e9, abs=1e-3)


def test_backend_choices_match_the_library(bench):
    from openpose_py.backends import BACKENDS

    assert bench._BACKEND_CHOICES == BACKENDS


def test_bad_arguments(bench, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--images", str(tmp_path), "--height", "100"])
    assert exc.value.code == 2
    assert bench.main(["--images", str(tmp_path), "--height", "128"]) == 1
    assert "no images" in capsys.readouterr().err
