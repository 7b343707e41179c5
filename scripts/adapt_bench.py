#!/usr/bin/env python
"""Agreement with a teacher on held-out frames, and COCO AP, of networks before and after ``train --recipe adapt``.

For each network (``--weights NAME=PATH``, the pretrained one first) and each input height: OKS-AP on the held-out
frames with the teacher's confident keypoints as the truth (the run's ``val.json``, as its validation scores it),
PCK there (the share of the teacher's confident keypoints that the network's person matched to that teacher person
puts within ``--pck`` times the longer side of the teacher person's keypoint box; people matched one to one by OKS,
greedily; an unmatched teacher person's keypoints all count as misses), and COCO AP on the dev photos and the mmpose
COCO samples. Per set and keypoint also the mean offset from the truth to the matched detection (in units of the
truth's longer box side): where the teacher, or COCO's annotators, put a point (the hips) and where the network does. Means over the heights, and each network's change against the first. One JSON object on stdout; a plain
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
from openpose_py.skeleton import COCO_17_NAMES, COCO_18

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SIGMAS = COCO_18.oks_sigmas[list(COCO_18.coco17)]


def _oks(gt: np.ndarray, dt: np.ndarray, area: float) -> float:
    labelled = gt[:, 2] > 0
    d2 = ((gt[:, :2] - dt[:, :2]) ** 2).sum(axis=1)
    e = d2 / (2 * area * (2 * SIGMAS) ** 2 + np.spacing(1))
    found = dt[:, 2] > 0
    return float(np.where(labelled & found, np.exp(-e), 0.0).sum() / max(labelled.sum(), 1))


def matched_pairs(annotations: dict[str, Any], results: list[dict[str, Any]]) -> list[tuple[dict, np.ndarray | None]]:
    """(truth annotation, matched detection's (17, 3) keypoints or None) for every person with keypoints, matched one
    to one per image by OKS, greedily."""
    by_image: dict[int, list[np.ndarray]] = {}
    for r in results:
        by_image.setdefault(int(r["image_id"]), []).append(np.asarray(r["keypoints"], dtype=np.float64).reshape(17, 3))
    gts_by_image: dict[int, list[dict[str, Any]]] = {}
    for a in annotations["annotations"]:
        if a.get("num_keypoints", 0) > 0 and not a.get("iscrowd", 0):
            gts_by_image.setdefault(int(a["image_id"]), []).append(a)
    out: list[tuple[dict, np.ndarray | None]] = []
    for image_id, gts in gts_by_image.items():
        dts = by_image.get(image_id, [])
        kps = [np.asarray(a["keypoints"], dtype=np.float64).reshape(17, 3) for a in gts]
        pairs = sorted(((_oks(g, d, gts[i]["area"]), i, j) for i, g in enumerate(kps) for j, d in enumerate(dts)),
                       reverse=True)
        used_d: set[int] = set()
        match: dict[int, int] = {}
        for score, i, j in pairs:
            if score > 0 and i not in match and j not in used_d:
                used_d.add(j)
                match[i] = j
        out += [(gts[i], dts[match[i]] if i in match else None) for i in range(len(gts))]
    return out


def pck(pairs: list[tuple[dict, np.ndarray | None]], alpha: float) -> float:
    """The share of the truth's labelled keypoints found within ``alpha`` x the longer box side (see the module)."""
    hits = total = 0
    for ann, d in pairs:
        g = np.asarray(ann["keypoints"], dtype=np.float64).reshape(17, 3)
        labelled = g[:, 2] > 0
        total += int(labelled.sum())
        if d is not None:
            near = np.linalg.norm(g[:, :2] - d[:, :2], axis=1) <= alpha * max(*ann["bbox"][2:], 1.0)
            hits += int((labelled & (d[:, 2] > 0) & near).sum())
    return hits / max(total, 1)


def offsets(pairs: list[tuple[dict, np.ndarray | None]]) -> dict[str, list[float]]:
    """Per COCO keypoint: mean (dx, dy) from the truth to the matched detection, in units of the truth's longer box
    side, over the points both have (where a teacher and a network place a point differently)."""
    sums = np.zeros((17, 2))
    counts = np.zeros(17)
    for ann, d in pairs:
        if d is None:
            continue
        g = np.asarray(ann["keypoints"], dtype=np.float64).reshape(17, 3)
        both = (g[:, 2] > 0) & (d[:, 2] > 0)
        sums[both] += (d[both, :2] - g[both, :2]) / max(*ann["bbox"][2:], 1.0)
        counts[both] += 1
    mean = sums / np.maximum(counts, 1)[:, None]
    return {name: [round(float(x), 4) for x in mean[k]] for k, name in enumerate(COCO_17_NAMES)}


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
    truths = {key: json.loads(labels.read_text()) for key, (_, labels) in sets.items()}
    report: dict[str, Any] = {"heights": heights, "pck_alpha": args.pck, "networks": {}}
    started = time.perf_counter()
    for item in args.weights or ["pretrained=lightweight"]:
        name, _, weights = item.partition("=")
        scores: dict[str, dict[str, float]] = {k: {} for k in (*sets, "pck")}
        shifts: dict[str, dict[str, Any]] = {k: {} for k in sets}
        for height in heights:
            estimator = PoseEstimator.from_pretrained(weights, height=height, backend="torch")
            for key, (images, labels) in sets.items():
                result = evaluate(estimator, images, labels)
                scores[key][str(height)] = round(result.ap, 4)
                pairs = matched_pairs(truths[key], list(result.results))
                shifts[key][str(height)] = offsets(pairs)
                if key == "agreement":
                    scores["pck"][str(height)] = round(pck(pairs, args.pck), 4)
        for values in scores.values():
            values["mean"] = round(sum(values.values()) / len(heights), 4)
        report["networks"][name] = {"weights": weights, **scores, "offsets": shifts}
        print(f"{name}: " + ", ".join(f"{k} {v['mean']:.4f} ({', '.join(f'{v[str(h)]:.3f}' for h in heights)})"
                                      for k, v in scores.items()), file=sys.stderr)
    first = next(iter(report["networks"].values()))
    for name, net in report["networks"].items():
        net["change"] = {k: round(net[k]["mean"] - first[k]["mean"], 4) for k in (*sets, "pck")}
    report["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
