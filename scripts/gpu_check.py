#!/usr/bin/env python
"""The one prepared GPU run: speed of ``lightweight`` and the VGG-19 networks (``cmu-coco``, ``cmu-body25``,
``cmu-mpi``) at 656x368 (float32 and float16 autocast, batch 1 and 8, decoding on the GPU included), a 1080p video end
to end writing OpenPose JSON, and the CUDA-only tests; one table, in under 5 minutes.

A GPU machine is lent rarely and for minutes, and it sees only the working tree (not ``../shared``). So:

  python scripts/gpu_check.py --prepare          # here: copy the one input it needs into .gpu/ (git-ignored)
  python3 scripts/gpu_check.py --out "$OUT"      # there, with .gpu carried: everything, in one command

It writes ``bench.jsonl`` (one ``scripts/benchmark.py`` record per run, or a ``{"failed": ...}`` record with the
error's last line), ``tests.txt`` (pytest's output) and ``gpu.md`` (a section ready for docs/benchmarks.md: the
command, the table, each network's best rate against the issue's goals) under ``--out``. Each run has its own time
limit and all runs one budget (default 230 s: with the tests' 60 s and start-up the command stays under 5 minutes),
and a failed run is recorded and skipped, so one slow or broken configuration cannot cost the others. It measures
and reports; it never asserts. The VGG-19 networks have no weights file offline, so they run untrained
(``--random-weights``): their network times are real, their decode times are not representative (an untrained
network finds no people). In images mode the decoder's per-pixel work (upsampling, peaks, PAF sampling) runs on the
maps' device, here the GPU.

The inputs are frames of the shared 960x540 clip: ``--images`` of them for the image runs (the network sees
656x368 at height 368), and a ``--frames``-frame video of them scaled to 1920x1080 for the video runs (read, decoded
and written frame by frame by the library's pipelined video loop, JSON for every frame).
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
MODELS = ("lightweight", "cmu-coco", "cmu-body25", "cmu-mpi")
UNTRAINED = {"cmu-coco", "cmu-body25", "cmu-mpi"}  # no weights file offline
#: the video runs (the others only run on images: each video run costs a 1080p decode)
VIDEO_MODELS = ("lightweight", "cmu-coco")
#: the issue's goals on an H100, frames/s at 656x368 with decoding included
GOALS = {"lightweight": 400, "cmu-coco": 150}
VIDEO_SIZE = (1920, 1080)
#: the tests that need a CUDA device (skipped everywhere else)
CUDA_TESTS = ("tests/backends/test_torch_runner.py::test_gpu_uploads_are_pinned_and_cudnn_autotunes",)


def prepare(data: Path) -> None:
    """Copy the clip the runs are made of into ``data`` (run where ``../shared`` is)."""
    if not CLIP.is_file():
        raise SystemExit(f"{CLIP}: missing; --prepare runs where the shared data is, beside the checkout")
    data.mkdir(parents=True, exist_ok=True)
    shutil.copy(CLIP, data / CLIP.name)


def make_inputs(clip: Path, work: Path, images: int, frames: int) -> tuple[Path, Path]:
    """``images`` JPEG frames and a ``frames``-frame 1080p MPEG-4 video, both cycling through the clip's frames."""
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
    video = work / "clip_1920x1080.mp4"
    large = [cv2.resize(p, VIDEO_SIZE, interpolation=cv2.INTER_LINEAR) for p in pictures]
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, VIDEO_SIZE)
    for i in range(frames):
        writer.write(large[i % len(large)])
    writer.release()
    return folder, video


def runs(device: str, models: list[str], dtypes: list[str], batches: list[int], repeat: int, height: int,
         images: Path, video: Path, video_models: tuple[str, ...] = VIDEO_MODELS) -> list[tuple[str, list[str]]]:
    """(label, benchmark arguments) of every run: each model's image runs, then (for :data:`VIDEO_MODELS`) its video
    run at the largest batch (JSON written). A reduced-precision run also reports how far its maps are from
    float32's on the same device."""
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
        if model in video_models:
            batch = max(batches)
            out.append((f"{model} video 1080p float32 batch {batch}",
                        ["--video", str(video), *common, "--batch-size", str(batch)]))
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


def table(records: list[dict[str, Any]], command: str = "", seconds: float | None = None) -> str:
    """The section for docs/benchmarks.md: the command, the table of the records (failed runs listed under it), each
    network's best rate against :data:`GOALS`."""
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
    note = (f"{env.get('gpu') or env.get('cpu')}; torch {env.get('torch')}, Python {env.get('python')}"
            if env else "no run finished")
    took = f" It took {seconds:.0f} s." if seconds is not None else ""
    intro = [f"### GPU run ({time.strftime('%Y-%m-%d')})", "", "```bash", command, "```", "",
             "Medians per image; frames/s = 1000 / total ms, decoding included (on the GPU in the image runs); the "
             f"video rows are frames / wall time of a 1080p video, read, inferred, decoded and written as JSON.{took}",
             ""] if command else []
    tail = ["", "Failed:", *failed] if failed else []
    return "\n".join([*intro, head, *rows, "", note, *_goals(records), *tail]) + "\n"


def _goals(records: list[dict[str, Any]]) -> list[str]:
    """One line per network with a goal: its best image-run rate (the fastest precision and batch) against it."""
    lines = []
    for model, goal in GOALS.items():
        rates = [(r["fps"], r["label"]) for r in records
                 if "failed" not in r and r.get("mode") == "images" and r["label"].startswith(f"{model} ")]
        if rates:
            fps, label = max(rates)
            lines.append(f"- {model}: best {fps} frames/s ({label}) against the goal of {goal}: "
                         f"{'met' if fps >= goal else 'not met'}")
    return ["", *lines] if lines else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prepare", action="store_true", help="copy the input clip into --data and stop")
    parser.add_argument("--data", type=Path, default=ROOT / ".gpu", help="the folder --prepare fills")
    parser.add_argument("--out", type=Path, default=ROOT / "gpu-results", help="where the results go")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--dtypes", default="float32,float16")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--video-models", default=",".join(VIDEO_MODELS), help="the models with a video run")
    parser.add_argument("--images", type=int, default=16, help="images of the image runs")
    parser.add_argument("--repeat", type=int, default=5, help="passes over the images per image run")
    parser.add_argument("--height", type=int, default=368, help="network input height (368: 656x368 inputs)")
    parser.add_argument("--frames", type=int, default=100, help="frames of the video run")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds each benchmark run may take")
    parser.add_argument("--budget", type=float, default=230.0,
                        help="seconds all benchmark runs may take together (the whole command stays under 5 "
                             "minutes); the runs left when it is spent are recorded as skipped")
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
    began = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    images, video = make_inputs(clip, args.out / "inputs", args.images, args.frames)
    records = []
    deadline = time.monotonic() + args.budget
    with open(args.out / "bench.jsonl", "w") as sink:
        for label, bench_args in runs(args.device, args.models.split(","), args.dtypes.split(","),
                                      [int(b) for b in args.batches.split(",")], args.repeat, args.height, images,
                                      video, tuple(args.video_models.split(","))):
            left = deadline - time.monotonic()
            record = (run_benchmark(label, bench_args, min(args.limit, left)) if left > 5 else
                      {"failed": label, "reason": "skipped: the --budget was spent"})
            records.append(record)
            sink.write(json.dumps(record) + "\n")
            sink.flush()
            print(f"{label}: {record.get('reason') or str(record.get('fps')) + ' frames/s'}", file=sys.stderr)
    shutil.rmtree(args.out / "inputs")
    if args.tests:
        try:
            tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                                    *CUDA_TESTS], capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=60)
            report = tests.stdout + tests.stderr
        except subprocess.TimeoutExpired:
            report = "the CUDA tests ran over their 60 s limit\n"
        (args.out / "tests.txt").write_text(report)
        print(f"tests: {(report.strip().splitlines() or ['no output'])[-1]}", file=sys.stderr)
    command = "python3 scripts/gpu_check.py " + " ".join(sys.argv[1:])
    (args.out / "gpu.md").write_text(table(records, command, time.monotonic() - began))
    return 0


if __name__ == "__main__":
    sys.exit(main())
