#!/usr/bin/env python
"""How cost grows: time and memory of the decoder and of the whole pipeline against image size and against the
number of people, and the peak memory of ``openpose-py image`` and ``video`` at their defaults. It measures and
reports; it never asserts.

- Image size: one photo (``--photo``) resized so that its longer side is 256 ... 4096 pixels, run at the default
  network height (368: the network input hardly grows, only the resize does) and at the photo's own height
  (``full``: the network sees every pixel, until the input limits scale it down: 4096 pixels a side, 2048x2048 in
  all).
- People: a crop of one person (``--person``: the photo's box x,y,w,h) tiled 1 ... 50 times in a grid; the network
  height grows with the grid, so every person is as large in the network input as in the photo at height 368, and
  the time per person is what a crowd costs.

Each point runs in a fresh process (default backend, ``--threads``): one untimed call, then the median of
``--repeat`` timed calls of ``decode`` (on the network's maps) and of ``PoseEstimator.__call__`` (BGR array in,
people out: pre-processing, network, decoding). Memory: the process's peak resident set after the calls, and its
growth over the resident set just before the first call (the estimator built, the image in memory).

  python scripts/growth_bench.py --photo ../shared/data/coco-val2017-dev/images/000000000139.jpg \\
      --person 393,118,92,218 --video ../shared/data/openpose-media/video.avi
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = (256, 512, 1024, 2048, 4096)
PEOPLE = (1, 2, 5, 10, 20, 50)


def _rss_mb() -> float:
    """The resident set now (Linux), in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def tiled(person, n: int):
    """``n`` copies of the ``person`` crop in a grid about as wide as high (the spare cells grey)."""
    import numpy as np

    h, w = person.shape[:2]
    cols = max(1, round(math.sqrt(n * h / w)))
    rows = math.ceil(n / cols)
    canvas = np.full((rows * h, cols * w, 3), 128, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        canvas[r * h:(r + 1) * h, c * w:(c + 1) * w] = person
    return canvas


def point(args: argparse.Namespace) -> dict[str, Any]:
    """One measurement, in this process: the image the point names, its decode and whole-pipeline times, memory."""
    import cv2
    import numpy as np

    from openpose_py import PoseEstimator

    photo = cv2.imread(str(args.photo))
    kind, value = args.point.split("=")
    value = int(value)
    if kind == "people":
        x, y, w, h = args.person
        image = tiled(photo[y:y + h, x:x + w], value)
        height = max(8, round(image.shape[0] * args.height / photo.shape[0] / 8) * 8)
    else:
        scale = value / max(photo.shape[:2])
        image = cv2.resize(photo, (round(photo.shape[1] * scale), round(photo.shape[0] * scale)),
                           interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        height = args.height if kind == "size" else max(8, image.shape[0] // 8 * 8)
    estimator = PoseEstimator.from_pretrained("lightweight", height=height, threads=args.threads)
    before = _rss_mb()
    estimator(image)  # untimed
    grid = estimator.network_grid(image)
    decode_s, total_s = [], []
    people = 0
    from openpose_py.decode.decoder import decode

    for _ in range(args.repeat):
        t0 = time.perf_counter()
        decode(grid.heatmaps, grid.pafs, estimator.skeleton, estimator.decoder, stride=grid.stride,
               content_size=grid.box.content_size)
        t1 = time.perf_counter()
        people = len(estimator(image))
        total_s.append(time.perf_counter() - t1)
        decode_s.append(t1 - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    w, h = grid.box.input_size
    return {"point": args.point, "image": f"{image.shape[1]}x{image.shape[0]}", "input": f"{w}x{h}",
            "backend": estimator.backend, "people": people, "decode_ms": round(1e3 * statistics.median(decode_s), 1),
            "total_ms": round(1e3 * statistics.median(total_s), 1), "peak_rss_mb": round(peak),
            "growth_mb": round(peak - before), "load_avg_1m": round(os.getloadavg()[0], 2),
            "array_mb": round(np.asarray(image).nbytes / 2**20, 1)}


def _child(args: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{args[-1]}: {(done.stderr.strip().splitlines() or ['no output'])[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def command_peak(argv: list[str]) -> dict[str, Any]:
    """Peak resident set (MB) and wall seconds of one ``openpose-py`` command (GNU time's %M and %e)."""
    done = subprocess.run(["/usr/bin/time", "-f", "%M %e", "openpose-py", *argv], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise SystemExit(f"openpose-py {argv[0]}: {(done.stderr.strip().splitlines() or ['no output'])[-1]}")
    kb, seconds = done.stderr.strip().splitlines()[-1].split()
    return {"command": "openpose-py " + " ".join(argv), "peak_rss_mb": round(int(kb) / 1024),
            "seconds": float(seconds)}


def table(rows: list[dict[str, Any]], title: str) -> str:
    head = (f"| {title} | image | network input | people found | decode ms | whole pipeline ms | peak RSS MB | "
            "growth MB | load |\n|---|---|---|---|---|---|---|---|---|")
    return "\n".join([head, *(f"| {r['point'].split('=')[1]} | {r['image']} | {r['input']} | {r['people']} | "
                              f"{r['decode_ms']} | {r['total_ms']} | {r['peak_rss_mb']} | {r['growth_mb']} | "
                              f"{r['load_avg_1m']} |" for r in rows)])


def drive(args: argparse.Namespace, argv: list[str]) -> None:
    sections = {"size": "long side (height 368)", "full": "long side (full resolution)", "people": "people"}
    values = {"size": args.sizes, "full": args.sizes, "people": args.people}
    out: dict[str, Any] = {}
    for kind, title in sections.items():
        rows = []
        for v in values[kind]:
            rows.append(_child([*argv, "--point", f"{kind}={v}"]))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        out[kind] = rows
        print(table(rows, title) + "\n")
    if args.video is not None:
        with tempfile.TemporaryDirectory() as scratch:
            commands = [command_peak(["image", str(args.photo), "--json-dir", f"{scratch}/i"]),
                        command_peak(["video", str(args.video), "--json-dir", f"{scratch}/v"])]
        for c in commands:
            print(f"- `{c['command']}`: peak RSS {c['peak_rss_mb']} MB, {c['seconds']} s")
        out["commands"] = commands
    print(json.dumps(out))


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(t) for t in text.split(","))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photo", type=Path, required=True)
    p.add_argument("--person", type=_ints, required=True, help="x,y,w,h of one person in --photo, for the tiles")
    p.add_argument("--video", type=Path, default=None, help="also the peak memory of `openpose-py video` on it")
    p.add_argument("--sizes", type=_ints, default=SIZES)
    p.add_argument("--people", type=_ints, default=PEOPLE)
    p.add_argument("--height", type=int, default=368)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--point", default=None, help="size=N, full=N or people=N: measure one point, print its record")
    args = p.parse_args(argv)
    if args.point:
        print(json.dumps(point(args)))
    else:
        drive(args, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
