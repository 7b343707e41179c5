#!/usr/bin/env python
"""The one prepared GPU run: speed of ``lightweight`` and ``cmu-coco`` at 656x368 (float32 and float16 autocast,
batch 1 and 8, decoding included), the video loop writing OpenPose JSON, and the CUDA-only tests.

A GPU machine is lent rarely and for minutes, and it sees only the working tree (not ``../shared``). So:

  python scripts/gpu_check.py --prepare          # here: copy the one input it needs into .gpu/ (git-ignored)
  python3 scripts/gpu_check.py --out "$OUT"      # there, with .gpu carried: everything, in one command

It writes ``bench.jsonl`` (one ``scripts/benchmark.py`` record per run, or a ``{"failed": ...}`` record with the
error's last line), ``tests.txt`` (pytest's output) and ``gpu.md`` (the table for docs/benchmarks.md "GPU") under
``--out``. Each run has its own time limit, and a failed run is recorded and skipped, so one slow or broken
configuration cannot cost the others. It measures and reports; it never asserts. ``cmu-coco`` has no weights file
offline, so it runs untrained (``--random-weights``): its network times are real, its decode times are not
representative (an untrained network finds no people).

The inputs are frames of the shared 960x540 clip, which the network sees at 656x368 at height 368: 16 images for
the image runs, and a 100-frame video of them for the video run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "videos" / "five_frames_960x540.mp4"
MODELS = ("lightweight", "cmu-coco")
UNTRAINED = {"cmu-coco"}  # no weights file offline
#: the tests that need a CUDA device (skipped everywhere else)
CUDA_TESTS = ("tests/backends/test_torch_runner.py::test_gpu_uploads_are_pinned_and_cudnn_autotunes",)


def prepare(data: Path) -> None:
    """Copy the clip the runs are made of into ``data`` (run where ``../shared`` is)."""
    if not CLIP.is_file():
        raise SystemExit(f"{CLIP}: missing; --prepare runs where the shared data is, beside the checkout")
    data.mkdir(parents=True, exist_ok=True)
    shutil.copy(CLIP, data / CLIP.name)


def make_inputs(clip: Path, work: Path, images: int, frames: int) -> tuple[Path, Path]:
    """``images`` JPEG frames and a ``frames``-frame MPEG-4 video, both cycling through the clip's frames."""
    import cv2

    cap = cv2.VideoCapture(str(clip))
    pictures = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        pictures.append(image)
    cap.release()
    if not pictures:
        raise SystemExit(f"{clip}: no frame could be read")
    folder = work / "frames"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(images):
        cv2.imwrite(str(folder / f"frame_{i:03d}.jpg"), pictures[i % len(pictures)])
    video = work / "clip_656x368.mp4"
    height, width = pictures[0].shape[:2]
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (width, height))
    for i in range(frames):
        writer.write(pictures[i % len(pictures)])
    writer.release()
    return folder, video


def runs(device: str, models: list[str], dtypes: list[str], batches: list[int], repeat: int, height: int,
         images: Path, video: Path) -> list[tuple[str, list[str]]]:
    """(label, benchmark arguments) of every run: each model's image runs, then its video run (JSON written). A
    reduced-precision run also reports how far its maps are from float32's on the same device."""
    out = []
    for model in models:
        common = ["--model", model, *(["--random-weights"] if model in UNTRAINED else []), "--device", device,
                  "--backend", "torch", "--height", str(height)]
        for dtype in dtypes:
            compare = ["--compare-torch"] if dtype != "float32" else []
            for batch in batches:
                out.append((f"{model} {dtype} batch {batch}",
                            ["--images", str(images), *common, "--dtype", dtype, "--batch-size", str(batch),
                             "--repeat", str(repeat), "--warmup", "2", *compare]))
        out.append((f"{model} video float32 batch 1", ["--video", str(video), *common]))
    return out


def _env() -> dict[str, str]:
    """This checkout importable without an install (the GPU machine has none)."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""), "PYTHONUNBUFFERED": "1"}


def run_benchmark(label: str, args: list[str], limit: float) -> dict[str, Any]:
    """One ``scripts/benchmark.py`` run: its JSON record, or a ``failed`` record saying why."""
    command = [sys.executable, str(ROOT / "scripts" / "benchmark.py"), *args]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit, cwd=ROOT, env=_env())
    except subprocess.TimeoutExpired:
        return {"failed": label, "reason": f"over its {limit:.0f} s limit"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"failed": label, "reason": f"exit {done.returncode}: {tail}"}
    record = json.loads(lines[-1])
    record["label"], record["wall_s"] = label, round(time.perf_counter() - started, 1)
    return record


def table(records: list[dict[str, Any]]) -> str:
    """The markdown table of the records (failed runs listed under it)."""
    head = ("| run | device | network ms | decode ms | total ms (per image) | frames/s | people/image | "
            "GPU MB (peak) | max difference from float32, heatmaps / PAFs |\n|---|---|---|---|---|---|---|---|---|")
    rows, failed = [], []
    for r in records:
        if "failed" in r:
            failed.append(f"- {r['failed']}: {r['reason']}")
            continue
        decode, memory = r.get("decode_ms"), r.get("cuda_max_allocated_mb")
        diff = (f"{r['max_abs_diff_heatmaps']} / {r['max_abs_diff_pafs']}" if "max_abs_diff_heatmaps" in r else "-")
        rows.append(f"| {r['label']}{' (untrained)' if r.get('random_weights') else ''} | {r.get('device')} | "
                    f"{r.get('network_ms')} | {'-' if decode is None else decode} | {r.get('total_ms')} | "
                    f"{r.get('fps')} | {r.get('people_per_image')} | {'-' if memory is None else memory} | {diff} |")
    env = next((r for r in records if "failed" not in r), {})
    note = f"torch {env.get('torch')}, Python {env.get('python')}, CPU {env.get('cpu')}" if env else "no run finished"
    return "\n".join([head, *rows, "", note, *(["", "Failed:", *failed] if failed else [])]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prepare", action="store_true", help="copy the input clip into --data and stop")
    parser.add_argument("--data", type=Path, default=ROOT / ".gpu", help="the folder --prepare fills")
    parser.add_argument("--out", type=Path, default=ROOT / "gpu-results", help="where the results go")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--dtypes", default="float32,float16")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--repeat", type=int, default=10, help="passes over the 16 images per image run")
    parser.add_argument("--height", type=int, default=368, help="network input height (368: 656x368 inputs)")
    parser.add_argument("--frames", type=int, default=100, help="frames of the video run")
    parser.add_argument("--limit", type=float, default=90.0, help="seconds each benchmark run may take")
    parser.add_argument("--budget", type=float, default=480.0,
                        help="seconds all benchmark runs may take together (a device command gets 600); the runs "
                             "left when it is spent are recorded as skipped")
    parser.add_argument("--tests", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the CUDA-only tests")
    args = parser.parse_args()
    if args.prepare:
        prepare(args.data)
        print(f"{args.data / CLIP.name}: ready; carry {args.data.name} to the GPU machine", file=sys.stderr)
        return 0
    clip = args.data / CLIP.name
    if not clip.is_file():
        print(f"{clip}: missing; run `python scripts/gpu_check.py --prepare` where ../shared is", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    images, video = make_inputs(clip, args.out / "inputs", 16, args.frames)
    records = []
    deadline = time.monotonic() + args.budget
    with open(args.out / "bench.jsonl", "w") as sink:
        for label, bench_args in runs(args.device, args.models.split(","), args.dtypes.split(","),
                                      [int(b) for b in args.batches.split(",")], args.repeat, args.height, images,
                                      video):
            left = deadline - time.monotonic()
            record = (run_benchmark(label, bench_args, min(args.limit, left)) if left > 5 else
                      {"failed": label, "reason": "skipped: the --budget was spent"})
            records.append(record)
            sink.write(json.dumps(record) + "\n")
            sink.flush()
            print(f"{label}: {record.get('reason') or str(record.get('fps')) + ' frames/s'}", file=sys.stderr)
    shutil.rmtree(args.out / "inputs")
    (args.out / "gpu.md").write_text(table(records))
    if args.tests:
        try:
            tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                                    *CUDA_TESTS], capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=120)
            report = tests.stdout + tests.stderr
        except subprocess.TimeoutExpired:
            report = "the CUDA tests ran over their 120 s limit\n"
        (args.out / "tests.txt").write_text(report)
        print(f"tests: {(report.strip().splitlines() or ['no output'])[-1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
