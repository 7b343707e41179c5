#!/usr/bin/env python
"""Where the NumPy decoder's time goes: each stage timed alone on the same maps. It measures and reports; it never
asserts.

The maps: the default estimator's final heatmaps and PAFs (stride 8) of each photo of ``--photos``. Per photo and
stage, the fastest of ``--repeat`` calls in a row (warm caches: a lower bound of what the stage costs inside
``decode``), averaged over the photos, in microseconds: the peaks (``find_peaks_numpy``; of it, the upsampled blocks),
the limb scores, the matching, the grouping into people; then the whole ``decode`` with each engine the same way.

  python scripts/decoder_stages.py --photos ../shared/data/coco-val2017-dev/images
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photos", type=Path, required=True)
    p.add_argument("--height", type=int, default=368)
    p.add_argument("--repeat", type=int, default=20)
    args = p.parse_args(argv)
    from openpose_py import PoseEstimator

    import torch
    from openpose_py.decode import decoder
    from openpose_py.decode.assemble import assemble
    from openpose_py.decode.cpu_limbs import match_limbs_numpy, score_limbs_numpy
    from openpose_py.decode.limbs import LimbScoring
    from openpose_py.decode.sparse_peaks import _upsampled_blocks, find_peaks_numpy
    from openpose_py.video import expand_image_paths

    torch.set_num_threads(1)
    estimator = PoseEstimator.from_pretrained("lightweight", height=args.height, threads=1)
    grids = [estimator.network_grid(path) for path, _ in expand_image_paths([args.photos])]
    config, skeleton = estimator.decoder, estimator.skeleton
    totals: dict[str, float] = {}

    def clock(name: str, call) -> None:
        best = math.inf
        for _ in range(args.repeat):
            start = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - start)
        totals[name] = totals.get(name, 0.0) + best * 1e6 / len(grids)

    for grid in grids:
        maps, pafs = grid.heatmaps[:skeleton.num_keypoints].numpy(), grid.pafs.numpy()
        width, height = grid.box.content_size
        scoring = LimbScoring(config.paf_samples, config.paf_threshold, config.min_inlier_ratio,
                              config.distance_prior, config.inliers_only,
                              math.sqrt(width * height) * config.short_limb_fraction)
        options = dict(upsample=config.upsample, neighbourhood=config.neighbourhood, refine=config.refine,
                       refine_radius=config.refine_radius, max_peaks=config.max_peaks)
        clock("peaks", lambda: find_peaks_numpy(maps, grid.stride, config.peak_threshold, **options))
        clock("of which blocks", lambda: _upsampled_blocks(maps, config.upsample, config.peak_threshold,
                                                           maps.min(), maps.max()))
        part, xy, score = find_peaks_numpy(maps, grid.stride, config.peak_threshold, **options)
        candidates = score_limbs_numpy(part, xy, pafs, grid.stride, skeleton, scoring, height)
        clock("limb scores", lambda: score_limbs_numpy(part, xy, pafs, grid.stride, skeleton, scoring, height))
        clock("matching", lambda: match_limbs_numpy(*candidates, config.matching))
        connections = list(zip(*match_limbs_numpy(*candidates, config.matching)))
        clock("people", lambda: decoder._kept_people(assemble(connections, score.tolist(), skeleton), xy.tolist(),
                                                     score.tolist(), skeleton, config))
        for engine in ("numpy", "torch"):
            clock(f"decode ({engine})", lambda: decoder.decode(grid.heatmaps, grid.pafs, skeleton, config,
                                                               stride=grid.stride, content_size=grid.box.content_size,
                                                               engine=engine))
    print(json.dumps({"photos": len(grids), "us_per_photo": {k: round(v, 1) for k, v in totals.items()},
                      "load_avg_1m": round(os.getloadavg()[0], 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
