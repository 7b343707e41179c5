#!/usr/bin/env python
"""Throughput of ``openpose-py image`` over a folder with 1, 2, ... processes launched by torchrun on this machine.
One JSON line per process count on stdout. It measures and reports; it never asserts.

Each launch is ``torchrun --standalone --nproc-per-node N --no-python openpose-py image FOLDER --json-dir TMP
--summary-json TMP/summary.json [flags]``; without ``--threads`` each process gets the usable cores divided by N
(openpose_py.runs). The record has ``wall_s`` (the whole launch: interpreter and weights start-up, the run,
the process group), ``images_per_s`` = images / ``wall_s``, ``run_images_per_s`` = images / the slowest process's
run time (start-up excluded), and each process's own ``per_second`` from the run's summary.

Example:
  python scripts/benchmark_distributed.py --images ../shared/data/coco-val2017-dev/images --procs 1 2 -- \\
      --height 368
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence


def _loadavg() -> list[float]:
    with open("/proc/loadavg") as f:
        return [float(v) for v in f.read().split()[:3]]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=Path, required=True, help="folder of images")
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2], help="process counts to launch")
    p.add_argument("flags", nargs="*", help="extra openpose-py image flags (after --)")
    args = p.parse_args(argv)
    exe = shutil.which("openpose-py") or str(Path(sys.executable).parent / "openpose-py")
    images = sorted(f for f in args.images.rglob("*") if f.is_file())
    for procs in args.procs:
        with tempfile.TemporaryDirectory(prefix="openpose-bench-") as tmp:
            summary = Path(tmp) / "summary.json"
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(procs),
                   "--no-python", exe, "image", str(args.images), "--json-dir", str(Path(tmp) / "json"),
                   "--summary-json", str(summary), *args.flags]
            load_before = _loadavg()
            started = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - started
            if done.returncode != 0:
                print(done.stderr[-2000:], file=sys.stderr)
                return done.returncode
            doc = json.loads(summary.read_text())
        record = {
            "procs": procs, "images": doc["done"], "files": len(images), "wall_s": round(wall, 2),
            "images_per_s": round(doc["done"] / wall, 3),
            "run_images_per_s": round(doc["done"] / doc["seconds"], 3) if doc["seconds"] else None,
            "processes": doc["processes"], "flags": args.flags, "cpus": len(os.sched_getaffinity(0)),
            "loadavg_before": load_before, "loadavg_after": _loadavg(),
        }
        print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
