#!/usr/bin/env python
"""The default end to end, per photo of a collection and per frame of a video, side by side with the fastest peer
pipeline on the same weights. It measures and reports; it never asserts.

Variants (each a fresh subprocess, run in alternating rounds so that the machine's load falls on all of them alike):

- ``photos``: ``run_pipeline`` over the photos from disk with OpenPose JSON written, as ``openpose-py image DIR
  --json-dir`` does, on the default backend (batches overlap: :mod:`openpose_py.video.overlap`);
- ``photos-sequential``: the same, one batch at a time (the estimator behind a wrapper, so nothing overlaps: the
  pipeline as it was before the overlap);
- ``photos-single``: ``estimator(path)`` photo after photo, no pipeline: the single photo's path;
- ``video`` / ``video-sequential``: ``run_pipeline`` over ``--video`` with JSON written (``openpose-py video``);
- ``peer-photos`` / ``peer-video``: Lightweight OpenPose's demo path (``demo.infer_fast``: resize, pad, network,
  cubic upsampling; ``extract_keypoints`` per keypoint, ``group_keypoints``, the demo's conversion to image pixels
  and ``Pose`` objects; no drawing, no JSON), its code imported from ``--peer`` (a checkout of
  Daniil-Osokin/lightweight-human-pose-estimation.pytorch; nothing of it is copied here). Its network is this
  project's ``lightweight`` module in torch float32 (the same weights, hpe-0001; the peer's own network class
  cannot hold them: it has no ``red`` convolution). torch is imported before ``openpose_py``, so its OpenMP threads
  keep their default waiting policy, which suits a torch network on a quiet machine; ``peer-*-passive`` sets
  ``OMP_WAIT_POLICY=PASSIVE``, far faster on a busy one (docs/benchmarks.md, "OpenMP threads"). Each of ours is
  compared with the faster of the two.

Every variant runs on ``--threads`` threads, after an untimed pass over 3 photos (1 for the peer); the timed region
excludes loading and compiling (the overlap's second compilation, of the streams, too: it comes from OpenVINO's
cache, as in any run after the first). ms per photo = wall seconds / photos; frames/s = frames / wall seconds.

  python scripts/throughput_bench.py --peer /tmp/peer --photos ../shared/data/coco-val2017-dev/images \\
      --video ../shared/data/openpose-media/video.avi --max-frames 120 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OURS = ("photos", "photos-sequential", "photos-single", "video", "video-sequential")
PEER = ("peer-photos", "peer-photos-passive", "peer-video", "peer-video-passive")


def _photos(folder: Path, limit: int | None) -> list[Path]:
    from openpose_py.video import expand_image_paths

    return [p for p, _ in expand_image_paths([folder])][:limit]


class _OneAtATime:
    """The estimator with nothing but its calls: the pipeline cannot tell its backend, so it runs one batch at a
    time (:func:`openpose_py.video.overlap.overlap_workers`)."""

    def __init__(self, estimator) -> None:
        self.skeleton = estimator.skeleton
        self.predict_batch = estimator.predict_batch
        self.detect_batch = estimator.detect_batch


def run_ours(variant: str, args: argparse.Namespace) -> dict[str, Any]:
    from openpose_py import PoseEstimator
    from openpose_py.video import FrameRange, ImageSource, JsonSink, run_pipeline

    estimator = PoseEstimator.from_pretrained("lightweight", height=args.height, threads=args.threads,
                                              backend=args.backend)
    photos = _photos(args.photos, args.max_photos)
    runner = estimator if variant in ("photos", "video") else _OneAtATime(estimator)
    with tempfile.TemporaryDirectory() as out:
        # untimed: the first call's allocations, and for the overlap the streams' compilation (from the cache)
        run_pipeline(runner, ImageSource(photos[:3]), [])
        start = time.perf_counter()
        if variant == "photos-single":
            people = sum(len(estimator(p)) for p in photos)
            count = len(photos)
        else:
            source = (ImageSource(photos) if variant.startswith("photos") else args.video)
            frames = FrameRange(end=args.max_frames) if args.max_frames else FrameRange()
            report = run_pipeline(runner, source, [JsonSink(out)], frames=frames)
            people, count = report.people, report.frames
        seconds = time.perf_counter() - start
    return {"variant": variant, "backend": estimator.backend, "count": count, "people": people, "seconds": seconds,
            "streams": getattr(estimator._runner, "streams", None)}


def run_peer(variant: str, args: argparse.Namespace) -> dict[str, Any]:
    if variant.endswith("-passive"):
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    import torch  # first: its OpenMP threads keep their default policy, unless set just above

    sys.path.insert(0, str(args.peer))
    import cv2
    import numpy as np
    from demo import infer_fast
    from modules.keypoints import extract_keypoints, group_keypoints
    from modules.pose import Pose

    from openpose_py.weights import load_model

    torch.set_num_threads(args.threads)
    model, _ = load_model("lightweight")

    def net(x):
        with torch.inference_mode():
            last = model(x)[-1]
        return [last.heatmaps, last.pafs]

    def people_in(img) -> int:
        heatmaps, pafs, scale, pad = infer_fast(net, img, args.height, 8, 4, True)
        found: list = []
        total = 0
        for k in range(Pose.num_kpts):
            total += extract_keypoints(heatmaps[:, :, k], found, total)
        entries, keypoints = group_keypoints(found, pafs)
        for k in range(keypoints.shape[0]):
            keypoints[k, 0] = (keypoints[k, 0] * 8 / 4 - pad[1]) / scale
            keypoints[k, 1] = (keypoints[k, 1] * 8 / 4 - pad[0]) / scale
        poses = []
        for entry in entries:
            points = np.ones((Pose.num_kpts, 2), dtype=np.int32) * -1
            for k in range(Pose.num_kpts):
                if entry[k] != -1.0:
                    points[k] = keypoints[int(entry[k]), :2].astype(np.int32)
            poses.append(Pose(points, entry[18]))
        return len(poses)

    photos = _photos(args.photos, args.max_photos)
    people_in(cv2.imread(str(photos[0])))  # untimed
    start = time.perf_counter()
    people = count = 0
    if variant.startswith("peer-photos"):
        for path in photos:
            people += people_in(cv2.imread(str(path), cv2.IMREAD_COLOR))
            count += 1
    else:
        cap = cv2.VideoCapture(str(args.video))
        while not args.max_frames or count < args.max_frames:
            ok, img = cap.read()
            if not ok:
                break
            people += people_in(img)
            count += 1
        cap.release()
    policy = os.environ.get("OMP_WAIT_POLICY", "OpenMP default")
    return {"variant": variant, "backend": f"peer demo path, torch float32, {policy}", "count": count, "people": people,
            "seconds": time.perf_counter() - start}


def _one(args: argparse.Namespace) -> int:
    record = run_peer(args.variant, args) if args.variant in PEER else run_ours(args.variant, args)
    record["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(record))
    return 0


def _drive(args: argparse.Namespace, argv: list[str]) -> int:
    variants = [*OURS, *(PEER if args.peer else ())]
    if args.video is None:
        variants = [v for v in variants if "video" not in v]
    records: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    for rnd in range(args.rounds):
        for variant in variants:
            done = subprocess.run([sys.executable, __file__, *argv, "--variant", variant], capture_output=True,
                                  text=True, env=env)
            if done.returncode != 0:
                raise SystemExit(f"{variant}: {(done.stderr.strip().splitlines() or ['no output'])[-1]}")
            record = json.loads(done.stdout.strip().splitlines()[-1])
            records[variant].append(record)
            print(f"round {rnd + 1} {variant}: {record['count']} in {record['seconds']:.2f} s "
                  f"(load {record['load_avg_1m']})", file=sys.stderr, flush=True)
    print(json.dumps(records))
    print(table(records))
    return 0


def _rate(run: dict[str, Any], video: bool) -> float:
    return run["count"] / run["seconds"] if video else 1e3 * run["seconds"] / run["count"]


def table(records: dict[str, list[dict[str, Any]]]) -> str:
    """Markdown: per variant the rounds' ms per photo (or frames/s) and its median against the fastest peer's."""
    lines = ["| variant | backend | per round | median | against the fastest peer |", "|---|---|---|---|---|"]
    for variant, runs in records.items():
        video = "video" in variant
        median = statistics.median(_rate(r, video) for r in runs)
        peers = [statistics.median(_rate(r, video) for r in rs) for v, rs in records.items()
                 if v.startswith("peer") and ("video" in v) == video]
        ratio = "-"
        if peers and not variant.startswith("peer"):
            ratio = f"{median / max(peers):.2f}x" if video else f"{min(peers) / median:.2f}x"
        unit = "frames/s" if video else "ms/photo"
        lines.append(f"| {variant} | {runs[0]['backend']} | {', '.join(f'{_rate(r, video):.1f}' for r in runs)} "
                     f"{unit} | {median:.1f} {unit} | {ratio} |")
    loads = [r["load_avg_1m"] for runs in records.values() for r in runs]
    lines += ["", f"1-minute load average at the end of the runs: {min(loads)}-{max(loads)}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photos", type=Path, required=True, help="folder of photos")
    p.add_argument("--video", type=Path, default=None, help="video file (no video rows without it)")
    p.add_argument("--peer", type=Path, default=None, help="checkout of the peer (no peer rows without it)")
    p.add_argument("--height", type=int, default=368)
    p.add_argument("--backend", default="auto", help="our side's backend (default: auto, what users get)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-photos", type=int, default=None)
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--variant", choices=(*OURS, *PEER), default=None, help="run one variant and print its record")
    args = p.parse_args(argv)
    return _one(args) if args.variant else _drive(args, argv)


if __name__ == "__main__":
    sys.exit(main())
