#!/usr/bin/env python
"""Speed of the pose pipeline: one JSON line per run on stdout. It measures and reports; it never asserts.

Images mode (default) loads every image of ``--images`` into memory, then times each batch twice:

- staged: ``preprocess`` (resize, pad, normalise, batch), ``network`` (the backend's runner, device synchronised),
  ``decode`` (upsampling + peaks + limb scoring + grouping, all of :func:`openpose_py.decode.decoder.decode`);
- end to end (``total``): ``PoseEstimator.predict_batch`` on the same images, i.e. everything from the BGR array to
  people in image pixels.

Keys ``preprocess_ms``, ``network_ms``, ``decode_ms``, ``total_ms`` are medians per image (a batch's time divided
by its size), each with ``_p10_ms``/``_p90_ms`` as spread; ``fps`` = 1000 / ``total_ms``; ``peak_rss_mb`` is the
process's peak resident memory, ``cuda_max_allocated_mb`` the peak CUDA allocation (null on the CPU).
``network_gmacs`` is the network's cost per image (median, multiply-accumulates counted by
:func:`openpose_py.models.flops.network_macs` for each input shape that ran) and ``network_gmac_per_s`` the rate the
runtime achieved over all timed network calls; against the device's peak it says how close the network runs to it.

With ``--compare-torch``, every timed input also goes through the torch float32 network (untimed) and
``max_abs_diff_heatmaps`` / ``max_abs_diff_pafs`` report the backend's largest deviation from it.

Video mode (``--video FILE``) runs the library's pipelined video loop (:func:`openpose_py.video.run_pipeline`: reader
thread, estimator, writer thread) over the file, optionally rendering into ``--render-output``; it reports the
frame rate over the whole run, ``total_ms`` = wall time per frame, ``network_ms`` (median per frame) and the two
arithmetic keys.

``--backend auto`` (the default, as everywhere) runs what the library picks; ``backend`` in the record names it.
Importing ``openpose_py`` sets ``OMP_WAIT_POLICY=PASSIVE`` unless the environment sets it (``omp_wait_policy`` in the
record). Progress goes to stderr, one line per pass, so a long run is never silent.

Examples:
  python scripts/benchmark.py --images ../shared/data/coco-val2017-dev/images --model lightweight --height 368 \\
      --threads 2 --backend openvino-int8
  python scripts/benchmark.py --video ../shared/data/videos/selfie_upper_body.mp4 --height 256 --threads 2
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from openpose_py.cli.options import BACKEND_NAMES as _BACKEND_CHOICES  # noqa: E402  (no torch import)

_DTYPES = ("float32", "bfloat16", "float16")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--images", type=Path, help="folder of images (images mode)")
    src.add_argument("--video", type=Path, help="video file (video mode: the pipelined video loop)")
    p.add_argument("--model", default="lightweight", help="registered weights name")
    p.add_argument("--weights", type=Path, default=None, help="weights file instead of the registered one")
    p.add_argument("--height", type=int, default=368, help="network input height")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (torch, OpenCV and the CPU backends)")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--backend", default="auto", choices=_BACKEND_CHOICES)
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--dtype", default="float32", choices=_DTYPES, help="torch backend: autocast dtype")
    p.add_argument("--channels-last", action="store_true", help="torch backend: channels-last memory format")
    p.add_argument("--compile", action="store_true", help="torch backend: torch.compile the network")
    p.add_argument("--random-weights", action="store_true",
                   help="time the registered entry's network untrained (no weights file needed; the people found "
                        "are meaningless, so decode times are not representative)")
    p.add_argument("--decoder", default="default", help="decoder preset")
    p.add_argument("--warmup", type=int, default=3, help="untimed batches first (images mode)")
    p.add_argument("--repeat", type=int, default=3, help="passes over the images (images mode)")
    p.add_argument("--max-images", type=int, default=None, help="use only the first N images (sorted by path)")
    p.add_argument("--max-frames", type=int, default=None, help="video mode: stop after N frames")
    p.add_argument("--render-output", type=Path, default=None, help="video mode: also render into this video")
    p.add_argument("--json-dir", type=Path, default=None,
                   help="video mode: write the OpenPose JSON files here (default: a temporary folder, removed after; "
                        "JSON is always written, as `openpose-py video --json-dir` does)")
    p.add_argument("--compare-torch", action="store_true",
                   help="images mode: also run the torch float32 network on every input and report the largest "
                        "absolute difference of the backend's heatmaps and PAFs from it")
    args = p.parse_args(argv)
    for name in ("batch_size", "repeat", "height"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be >= 1")
    if args.height % 8:
        p.error("--height must be a multiple of 8")
    return args


def _percentiles(prefix: str, samples: Sequence[float]) -> dict[str, float | None]:
    if not samples:
        return {f"{prefix}_ms": None, f"{prefix}_p10_ms": None, f"{prefix}_p90_ms": None}
    a = np.asarray(samples, dtype=np.float64) * 1e3
    return {f"{prefix}_ms": round(float(np.median(a)), 3), f"{prefix}_p10_ms": round(float(np.percentile(a, 10)), 3),
            f"{prefix}_p90_ms": round(float(np.percentile(a, 90)), 3)}


def _machine() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__, "cpu": _cpu_name(),
                            "logical_cpus": _cpu_count()}
    if hasattr(os, "getloadavg"):  # other processes on the machine skew every figure: say how busy it was
        info["load_avg_1m"] = round(os.getloadavg()[0], 2)
    info["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY")
    for module in ("onnxruntime", "openvino"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = None
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_count() -> int | None:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _progress(message: str) -> None:
    """One line on stderr, so that stdout keeps only the JSON record."""
    print(f"[benchmark {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class _TimedRunner:
    """Wraps a runner: records each call's seconds (after the device has finished) per image of the batch."""

    def __init__(self, runner: Callable, sync: Callable[[], None]):
        self.runner = runner
        self.name = getattr(runner, "name", "custom")
        self.sync = sync
        self.seconds: list[float] = []
        self.shapes: list[tuple[int, ...]] = []  # the input shape of each recorded image's call
        self.recording = True

    def __call__(self, x):
        start = time.perf_counter()
        out = self.runner(x)
        self.sync()
        if self.recording:
            self.seconds += [(time.perf_counter() - start) / x.shape[0]] * x.shape[0]
            self.shapes += [tuple(x.shape)] * x.shape[0]
        return out


def _arithmetic(spec, shapes: Sequence[tuple[int, ...]], seconds: Sequence[float]) -> dict[str, Any]:
    """The network's cost per image (GMACs, median) and the rate the runtime achieved (GMAC/s over all calls)."""
    from openpose_py.models.flops import network_macs

    per_image = [network_macs(spec.architecture, h, w, batch=b, arch_kwargs=spec.arch_kwargs) / b
                 for b, _, h, w in shapes]
    if not per_image:
        return {"network_gmacs": None, "network_gmac_per_s": None}
    return {"network_gmacs": round(float(np.median(per_image)) / 1e9, 3),
            "network_gmac_per_s": round(sum(per_image) / sum(seconds) / 1e9, 1)}


def _build(args: argparse.Namespace):
    import cv2
    import torch

    from openpose_py.backends import TorchRunner, make_runner
    from openpose_py.inference import PoseEstimator
    from openpose_py.models import create
    from openpose_py.weights import get_spec, load_model

    if args.threads is not None:
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda but CUDA is not available")
    if args.random_weights:
        if args.weights is not None:
            raise SystemExit("error: --random-weights and --weights exclude each other")
        spec = get_spec(args.model)
        model = create(spec.architecture, **spec.builder_kwargs).to(device).eval()
    else:
        model, spec = load_model(args.weights if args.weights is not None else args.model, device=str(device))
    # the reference gets its own copy: channels_last converts the runner's model in place
    reference = TorchRunner(copy.deepcopy(model)) if args.compare_torch else None
    dtype = None if args.dtype == "float32" else getattr(torch, args.dtype)
    try:
        runner = make_runner(args.backend, model, spec, device=device, threads=args.threads, weights=args.weights,
                             dtype=dtype, channels_last=args.channels_last, compile=args.compile)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    timed = _TimedRunner(runner, sync)
    estimator = PoseEstimator(model, spec, device=device, height=args.height, decoder=args.decoder, runner=timed)
    return estimator, timed, sync, reference


def _images_mode(args: argparse.Namespace, estimator, timed: _TimedRunner, sync, reference) -> dict[str, Any]:
    import torch

    from openpose_py.backends import max_abs_difference
    from openpose_py.decode.decoder import decode
    from openpose_py.images import load_image
    from openpose_py.preprocess import input_geometry, preprocess
    from openpose_py.video import expand_image_paths

    paths = [path for path, _ in expand_image_paths([args.images])]
    images = [load_image(p) for p in paths[:args.max_images]]
    batches = [images[i:i + args.batch_size] for i in range(0, len(images), args.batch_size)]
    spec = estimator.preprocess_spec
    stride = spec.stride
    worst = {"heatmaps": 0.0, "pafs": 0.0}
    shapes: list[tuple[int, ...]] = []

    def staged(batch: list[np.ndarray]) -> tuple[float, float, float, int]:
        t0 = time.perf_counter()
        size = None
        if len(batch) > 1:
            boxes = [input_geometry(im.shape[1], im.shape[0], spec) for im in batch]
            size = (max(b.input_size[0] for b in boxes), max(b.input_size[1] for b in boxes))
        pre = [preprocess(im, spec, 1.0, size=size) for im in batch]
        x = torch.cat([t for t, _ in pre], 0).to(estimator.device)
        sync()
        t1 = time.perf_counter()
        out = timed.runner(x)
        sync()
        t2 = time.perf_counter()
        shapes.extend([tuple(x.shape)] * len(batch))
        found = 0
        for i, (_, box) in enumerate(pre):
            found += len(decode(out.heatmaps[i].float(), out.pafs[i].float(), estimator.skeleton, estimator.decoder,
                                stride=stride, content_size=box.content_size).people)
        t3 = time.perf_counter()
        if reference is not None:
            diff = max_abs_difference(reference(x), out)
            worst.update({k: max(worst[k], v) for k, v in diff.items()})
        return t1 - t0, t2 - t1, t3 - t2, found

    timed.recording = False
    _progress(f"warm-up: {args.warmup} batches")
    for batch in (batches * args.warmup)[:args.warmup]:
        staged(batch)
        estimator.predict_batch(batch)
    shapes.clear()
    if estimator.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    pre_s: list[float] = []
    net_s: list[float] = []
    dec_s: list[float] = []
    total_s: list[float] = []
    people = 0
    for rep in range(args.repeat):
        _progress(f"pass {rep + 1}/{args.repeat} over {len(images)} images ({timed.name})")
        for batch in batches:
            n = len(batch)
            a, b, c, _found = staged(batch)
            pre_s += [a / n] * n
            net_s += [b / n] * n
            dec_s += [c / n] * n
            start = time.perf_counter()
            result = estimator.predict_batch(batch)
            total_s += [(time.perf_counter() - start) / n] * n
            people += sum(len(r) for r in result)
    record: dict[str, Any] = {"mode": "images", "images": len(images), "timed_images": len(total_s)}
    for name, samples in (("preprocess", pre_s), ("network", net_s), ("decode", dec_s), ("total", total_s)):
        record.update(_percentiles(name, samples))
    record["fps"] = float(f"{1e3 / record['total_ms']:.4g}")
    record.update(_arithmetic(estimator.spec, shapes, net_s))
    record["people_per_image"] = round(people / len(total_s), 3)
    if reference is not None:
        record.update({f"max_abs_diff_{k}": float(f"{v:.3g}") for k, v in worst.items()})
    return record


def _video_mode(args: argparse.Namespace, estimator, timed: _TimedRunner) -> dict[str, Any]:
    import tempfile

    from openpose_py.video import FrameRange, JsonSink, VideoSink, run_pipeline

    if not args.video.is_file():
        raise SystemExit(f"error: no such video: {args.video}")
    with tempfile.TemporaryDirectory() as scratch:
        sinks = [JsonSink(args.json_dir or scratch)]
        if args.render_output is not None:
            sinks.append(VideoSink(args.render_output))
        frames = FrameRange(end=args.max_frames) if args.max_frames is not None else FrameRange()
        timed.recording = True
        report = run_pipeline(estimator, args.video, sinks, frames=frames, batch_size=args.batch_size)
    record: dict[str, Any] = {"mode": "video", "video": str(args.video), "frames": report.frames, "json": True,
                              "rendered": args.render_output is not None, "fps": float(f"{report.fps:.4g}"),
                              "total_ms": round(1e3 * report.seconds / max(1, report.frames), 3)}
    record.update(_percentiles("network", timed.seconds))
    record.update(_arithmetic(estimator.spec, timed.shapes, timed.seconds))
    record["people_per_image"] = round(report.people / max(1, report.frames), 3)
    return record


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    import torch

    from openpose_py.errors import OpenPoseError

    try:
        estimator, timed, sync, reference = _build(args)
        if args.video:
            record = _video_mode(args, estimator, timed)
        else:
            record = _images_mode(args, estimator, timed, sync, reference)
    except OpenPoseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    head = {"model": str(args.weights or args.model), "random_weights": args.random_weights, "backend": timed.name, "device": str(estimator.device),
            "dtype": args.dtype, "channels_last": args.channels_last, "compile": args.compile,
            "height": args.height, "threads": args.threads, "batch_size": args.batch_size,
            "decoder": args.decoder}
    memory = {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
              "cuda_max_allocated_mb": (round(torch.cuda.max_memory_allocated() / 2**20, 1)
                                        if estimator.device.type == "cuda" else None)}
    print(json.dumps({**head, **record, **memory, **_machine()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
