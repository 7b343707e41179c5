#!/usr/bin/env python
"""Do the decoder's two engines find the same people? It measures and reports; it never asserts.

The maps: the default estimator's final heatmaps and PAFs (stride 8) of each photo of ``--photos``, computed once.
Each is decoded by the ``torch`` engine and by the ``numpy`` one (what CPU maps take) under every preset and a few
variants of the default; per configuration: the peaks and people found, the photos where the two disagree on
which peaks or people there are, and the largest difference of a keypoint coordinate (input pixels) or score.

  python scripts/decoder_engines.py --photos ../shared/data/coco-val2017-dev/images
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photos", type=Path, required=True)
    p.add_argument("--height", type=int, default=368)
    args = p.parse_args(argv)
    from openpose_py import PoseEstimator

    import numpy as np
    import torch
    from openpose_py.decode.decoder import PRESETS, decode
    from openpose_py.video import expand_image_paths

    estimator = PoseEstimator.from_pretrained("lightweight", height=args.height)
    grids = [estimator.network_grid(path) for path, _ in expand_image_paths([args.photos])]
    default = PRESETS["default"]
    configs = {**{name: PRESETS[name] for name in PRESETS if PRESETS[name].blur_sigma == 0},
               "default, upsample 1": default.replace(upsample=1), "default, upsample 3": default.replace(upsample=3),
               "default, centroid": default.replace(refine="centroid"),
               "default, 4 neighbours": default.replace(neighbourhood=4, refine="none"),
               "default, max_peaks 2": default.replace(max_peaks=2),
               "default, optimal, C++ samples": default.replace(matching="optimal", paf_samples=None)}
    rows = []
    for name, config in configs.items():
        peaks = people = disagree = 0
        worst = 0.0
        for grid in grids:
            got = [decode(grid.heatmaps, grid.pafs, estimator.skeleton, config, stride=grid.stride,
                          content_size=grid.box.content_size, engine=engine) for engine in ("torch", "numpy")]
            (slow, fast), kinds = got, [[[k is None for k in p.keypoints] for p in d.people] for d in got]
            if not torch.equal(slow.peaks.part, fast.peaks.part) or kinds[0] != kinds[1]:
                disagree += 1
                continue
            peaks += len(slow.peaks.part)
            people += len(slow.people)
            values = [np.array([v for p in d.people for k in p.keypoints if k for v in (k.x, k.y, k.score)]
                               + [p.score for p in d.people]) for d in got]
            worst = max(worst, float(np.abs(values[0] - values[1]).max(initial=0)),
                        float((slow.peaks.xy - fast.peaks.xy).abs().max()) if len(slow.peaks.part) else 0.0)
        rows.append({"config": name, "photos": len(grids), "peaks": peaks, "people": people,
                     "photos_that_differ": disagree, "largest_difference": worst})
    for row in rows:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
