#!/usr/bin/env python
"""The decoder side by side with Lightweight OpenPose's, on the same network maps. It measures and reports; it never
asserts.

The maps: the default estimator's final heatmaps and PAFs (stride 8) of each photo of ``--photos``, computed once.
Ours: :func:`openpose_py.decode.decoder.decode` on them (default preset: upsampling, peaks, limb scoring, grouping).
The peer's, as its demo runs it after the network (``demo.infer_fast``'s part after the network: cubic upsampling by
4 with OpenCV; ``extract_keypoints`` per keypoint; ``group_keypoints``), its code imported from ``--peer`` (a
checkout of Daniil-Osokin/lightweight-human-pose-estimation.pytorch; nothing of it is copied here). Both in one
process on ``--threads`` threads, alternating photo by photo, ``--rounds`` passes after an untimed one; the median
ms per photo of each pass. ``--torch-engine`` also times our decoder's torch engine (the one GPU maps take; CPU maps
take the NumPy one) as ``ours_torch``. ``--tiles N`` tiles each photo N x N and runs the network N times as high, so
every person is as large as at ``--height`` and there are N^2 times as many (how a crowd's cost grows).

  python scripts/decoder_bench.py --peer /tmp/peer --photos ../shared/data/coco-val2017-dev/images --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photos", type=Path, required=True)
    p.add_argument("--peer", type=Path, required=True, help="checkout of the peer")
    p.add_argument("--height", type=int, default=368)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--torch-engine", action="store_true", help="also time our torch engine on the same maps")
    p.add_argument("--tiles", type=int, default=1, help="tile each photo N x N, network N times as high")
    args = p.parse_args(argv)
    from openpose_py import PoseEstimator  # first, as in any program using it: it sets OMP_WAIT_POLICY=PASSIVE

    import cv2
    import numpy as np
    import torch
    from openpose_py.decode.decoder import decode
    from openpose_py.video import expand_image_paths

    sys.path.insert(0, str(args.peer))
    from modules.keypoints import extract_keypoints, group_keypoints

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    estimator = PoseEstimator.from_pretrained("lightweight", height=args.height * args.tiles, threads=args.threads)
    paths = [path for path, _ in expand_image_paths([args.photos])]
    if args.tiles > 1:
        paths = [np.tile(cv2.imread(str(path)), (args.tiles, args.tiles, 1)) for path in paths]
    grids = [estimator.network_grid(path) for path in paths]

    def ours(grid, engine: str = "auto") -> int:
        return len(decode(grid.heatmaps, grid.pafs, estimator.skeleton, estimator.decoder, stride=grid.stride,
                          content_size=grid.box.content_size, engine=engine).people)

    def peer(grid) -> int:
        heatmaps = cv2.resize(np.ascontiguousarray(grid.heatmaps.permute(1, 2, 0).numpy()), (0, 0), fx=4, fy=4,
                              interpolation=cv2.INTER_CUBIC)
        pafs = cv2.resize(np.ascontiguousarray(grid.pafs.permute(1, 2, 0).numpy()), (0, 0), fx=4, fy=4,
                          interpolation=cv2.INTER_CUBIC)
        found: list = []
        total = 0
        for k in range(18):
            total += extract_keypoints(heatmaps[:, :, k], found, total)
        entries, _ = group_keypoints(found, pafs)
        return len(entries)

    runs = {"ours": ours, "peer": peer}
    if args.torch_engine:
        runs["ours_torch"] = lambda grid: ours(grid, "torch")
    medians: dict[str, list[float]] = {name: [] for name in runs}
    people = dict.fromkeys(runs, 0)
    for rnd in range(args.rounds + 1):
        times: dict[str, list[float]] = {name: [] for name in runs}
        for grid in grids:
            for name, run in runs.items():
                start = time.perf_counter()
                found = run(grid)
                times[name].append(time.perf_counter() - start)
                if rnd == 0:
                    people[name] += found
        if rnd:  # the first pass is untimed
            for name in medians:
                medians[name].append(round(1e3 * statistics.median(times[name]), 2))
    ratio = [round(p / o, 1) for o, p in zip(medians["ours"], medians["peer"])]
    extra = {}
    if args.torch_engine:
        extra["peer_over_ours_torch"] = [round(p / o, 1) for o, p in zip(medians["ours_torch"], medians["peer"])]
    print(json.dumps({"photos": len(grids), "tiles": args.tiles, "map": list(grids[0].heatmaps.shape[1:]),
                      **{f"{name}_ms": m for name, m in medians.items()},
                      "peer_over_ours": ratio, **extra, "people": people, "load_avg_1m": round(os.getloadavg()[0], 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
