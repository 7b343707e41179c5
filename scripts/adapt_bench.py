#!/usr/bin/env python
"""Agreement with a teacher on held-out frames, and COCO AP, of networks before and after ``train --recipe adapt``.

For each network (``--weights NAME=PATH``, the pretrained one first) and each input height: OKS-AP on the held-out
frames with the teacher's confident keypoints as the truth (the run's ``val.json``, as its validation scores it),
PCK there (the share of the teacher's confident keypoints that the network's person matched to that teacher person
puts within ``--pck`` times the longer side of the teacher person's keypoint box; people matched one to one by OKS,
greedily; an unmatched teacher person's keypoints all count as misses), and COCO AP on the dev photos and the mmpose
COCO samples. Means over the heights, and each network's change against the first. One JSON object on stdout; a plain
table on stderr. It measures; it never asserts.

Example:
  python scripts/adapt_bench.py --val RUN_CACHE/val.json --frames RUN_CACHE/frames \\
      --weights pretrained=lightweight --weights adapted=RUN/weights.best.safetensors > adapt.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from openpose_py.evaluate import evaluate
from openpose_py.inference import PoseEstimator
from openpose_py.skeleton import COCO_18

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SIGMAS = COCO_18.oks_sigmas[list(COCO_18.coco17)]


def _oks(gt: np.ndarray, dt: np.ndarray, area: float) -> float:
    labelled = gt[:, 2] > 0
    d2 = ((gt[:, :2] - dt[:, :2]) ** 2).sum(axis=1)
    e = d2 / (2 * area * (2 * SIGMAS) ** 2 + np.spacing(1))
    found = dt[:, 2] > 0
    return float(np.where(labelled & found, np.exp(-e), 0.0).sum() / max(labelled.sum(), 1))


def pck(annotations: dict[str, Any], results: list[dict[str, Any]], alpha: float) -> float:
    """The share of the teacher's labelled keypoints found within ``alpha`` x the longer box side (see the module)."""
    by_image: dict[int, list[np.ndarray]] = {}
    for r in results:
        by_image.setdefault(int(r["image_id"]), []).append(np.asarray(r["keypoints"], dtype=np.float64).reshape(17, 3))
    hits = total = 0
    gts_by_image: dict[int, list[dict[str, Any]]] = {}
    for a in annotations["annotations"]:
        if a["num_keypoints"] > 0:
            gts_by_image.setdefault(int(a["image_id"]), []).append(a)
    for image_id, gts in gts_by_image.items():
        dts = by_image.get(image_id, [])
        kps = [np.asarray(a["keypoints"], dtype=np.float64).reshape(17, 3) for a in gts]
        pairs = sorted(((_oks(g, d, gts[i]["area"]), i, j) for i, g in enumerate(kps) for j, d in enumerate(dts)),
                       reverse=True)
        used_g: set[int] = set()
        used_d: set[int] = set()
        match: dict[int, int] = {}
        for score, i, j in pairs:
            if score > 0 and i not in used_g and j not in used_d:
                used_g.add(i), used_d.add(j)
                match[i] = j
        for i, g in enumerate(kps):
            labelled = g[:, 2] > 0
            total += int(labelled.sum())
            if i not in match:
                continue
            d = dts[match[i]]
            w, h = gts[i]["bbox"][2:]
            near = np.linalg.norm(g[:, :2] - d[:, :2], axis=1) <= alpha * max(w, h, 1.0)
            hits += int((labelled & (d[:, 2] > 0) & near).sum())
    return hits / max(total, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--val", type=Path, required=True, help="the held-out frames' annotations (val.json)")
    parser.add_argument("--frames", type=Path, required=True, help="the cached frames' folder")
    parser.add_argument("--weights", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--heights", default="352,368,384")
    parser.add_argument("--pck", type=float, default=0.1)
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--no-coco", action="store_true", help="score the held-out frames only")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    heights = [int(h) for h in args.heights.split(",")]
    sets = {"agreement": (args.frames, args.val)}
    if not args.no_coco:
        sets["dev"] = (args.data / "coco-val2017-dev/images", args.data / "coco-val2017-dev/person_keypoints.json")
        sets["mmpose"] = (args.data / "mmpose-samples/coco", args.data / "mmpose-samples/coco/test_coco.json")
    val = json.loads(args.val.read_text())
    report: dict[str, Any] = {"heights": heights, "pck_alpha": args.pck, "networks": {}}
    started = time.perf_counter()
    for item in args.weights or ["pretrained=lightweight"]:
        name, _, weights = item.partition("=")
        scores: dict[str, dict[str, float]] = {k: {} for k in (*sets, "pck")}
        for height in heights:
            estimator = PoseEstimator.from_pretrained(weights, height=height, backend="torch")
            for key, (images, labels) in sets.items():
                result = evaluate(estimator, images, labels)
                scores[key][str(height)] = round(result.ap, 4)
                if key == "agreement":
                    scores["pck"][str(height)] = round(pck(val, list(result.results), args.pck), 4)
        for values in scores.values():
            values["mean"] = round(sum(values.values()) / len(heights), 4)
        report["networks"][name] = {"weights": weights, **scores}
        print(f"{name}: " + ", ".join(f"{k} {v['mean']:.4f} ({', '.join(f'{v[str(h)]:.3f}' for h in heights)})"
                                      for k, v in scores.items()), file=sys.stderr)
    first = next(iter(report["networks"].values()))
    for name, net in report["networks"].items():
        net["change"] = {k: round(net[k]["mean"] - first[k]["mean"], 4) for k in (*sets, "pck")}
    report["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
