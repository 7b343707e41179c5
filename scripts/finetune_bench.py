#!/usr/bin/env python
"""Does fine-tuning keep what the pretrained network knows? Issue #12's measurement, both ways round.

The dev photos are split by image id into two halves (``split_by_image_id`` over the sorted ids: "odd" holds the odd
positions). For each direction (train on the even half and test on the odd one, then the reverse) and each number of
steps, the script fine-tunes the pretrained network with a recipe (``openpose_py.train.config.RECIPES``, options on
top) on the training half, then scores COCO keypoint AP (torch backend, single scale) of the last and of the best
weights on the other half, on the mmpose COCO sample photos and on the OCHuman sample photos, at several input
heights, next to the pretrained network's. A small set's AP jumps with one person's keypoints, so every figure comes
at three heights and as their mean, and next to the AP the change of the network's responses at the annotated people
(``openpose_py.response``: heatmaps at labelled keypoints, PAF line integrals along labelled limbs), which resolves
what AP cannot. One JSON object on stdout; a plain table on stderr. It measures; it never asserts.

Example:
  python scripts/finetune_bench.py --steps 20,200 --out /tmp/ftbench > finetune.json
  python scripts/finetune_bench.py --steps 200 --set distill=0 --set mask_unlabelled=false   # the recipe without them
  python scripts/finetune_bench.py --steps 200 --set augment.max_rotation=0 --set augment.scale_range=1,1 \\
      --set augment.center_jitter=0 --set augment.flip_prob=0                                  # no augmentation
  python scripts/rotate_coco.py ../shared/data/coco-val2017-dev /tmp/turned   # footage unlike COCO: photos on their side
  python scripts/finetune_bench.py --dev /tmp/turned --directions "odd->even" --steps 200 --set distill=1
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch

from openpose_py.evaluate import evaluate
from openpose_py.inference import PoseEstimator
from openpose_py.response import Responses, responses
from openpose_py.train import train
from openpose_py.train.config import RECIPES, TrainConfig, overlay_options
from openpose_py.train.validation import split_by_image_id, write_split

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DIRECTIONS = {"even->odd": ("even", "odd"), "odd->even": ("odd", "even")}


def _value(raw: str) -> Any:
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(raw.lower(), raw)


def _options(recipe: str, overrides: list[str]) -> dict[str, Any]:
    """The recipe's options with ``KEY=VALUE`` overrides on top. ``TABLE.KEY=VALUE`` sets one key of a table and keeps
    the table's other keys (``augment.max_rotation=0`` keeps the recipe's crop size); a value with commas is a list
    (``augment.scale_range=1,1``)."""
    top: dict[str, Any] = {}
    for item in overrides:
        key, _, raw = item.partition("=")
        value = [_value(v) for v in raw.split(",")] if "," in raw else _value(raw)
        table, dot, name = key.partition(".")
        if dot:
            top.setdefault(table, {})[name] = value
        else:
            top[key] = value
    return overlay_options(RECIPES[recipe], top)


def _score(weights: str, sets: dict[str, tuple[Path, Path]],
           heights: list[int]) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, Responses]]]:
    """({set: {height: AP, "mean": mean AP}}, {set: {height: responses at the annotated people}})."""
    out: dict[str, dict[str, float]] = {name: {} for name in sets}
    found: dict[str, dict[str, Responses]] = {name: {} for name in sets}
    for height in heights:
        estimator = PoseEstimator.from_pretrained(weights, height=height, backend="torch")
        for name, (images, labels) in sets.items():
            out[name][str(height)] = round(evaluate(estimator, images, labels).ap, 4)
            found[name][str(height)] = responses(estimator, images, labels)
    for values in out.values():
        values["mean"] = round(sum(values.values()) / len(heights), 4)
    return out, found


def _response_change(after: dict[str, dict[str, Responses]],
                     before: dict[str, dict[str, Responses]]) -> dict[str, dict[str, Any]]:
    """Per set: the change of the responses at each height, and the mean changes over the heights."""
    out: dict[str, dict[str, Any]] = {}
    for name, by_height in after.items():
        changes = {h: r.change(before[name][h]).as_dict() for h, r in by_height.items()}
        out[name] = {**changes, "mean": {k: round(sum(c[k] for c in changes.values()) / len(changes), 4)
                                         for k in ("keypoints", "limbs", "keypoints_fell", "limbs_fell")}}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED, help="the shared data folder")
    parser.add_argument("--dev", type=Path, help="the set split in halves: a folder holding images/ and "
                                                 "person_keypoints.json [default: DATA/coco-val2017-dev]")
    parser.add_argument("--recipe", default="finetune", choices=sorted(RECIPES))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a recipe option (repeatable), e.g. distill=0, augment.max_rotation=0, "
                             "augment.scale_range=1,1")
    parser.add_argument("--steps", default="20,200", help="comma-separated step counts")
    parser.add_argument("--heights", default="352,368,384")
    parser.add_argument("--directions", default=",".join(DIRECTIONS))
    parser.add_argument("--out", type=Path, default=Path("finetune_bench"), help="working folder for the runs (a rerun replaces its runs)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    heights = [int(h) for h in args.heights.split(",")]
    dev = args.dev or args.data / "coco-val2017-dev"
    annotations = dev / "person_keypoints.json"
    args.out.mkdir(parents=True, exist_ok=True)
    ids = [im["id"] for im in json.loads(annotations.read_text())["images"]]
    halves = dict(zip(("even", "odd"), split_by_image_id(ids, 0.5)))
    for name, part in halves.items():
        write_split(annotations, part, args.out / f"{name}.json")
    others = {"mmpose": (args.data / "mmpose-samples/coco", args.data / "mmpose-samples/coco/test_coco.json"),
              "ochuman": (args.data / "mmpose-samples/ochuman",
                          args.data / "mmpose-samples/ochuman/test_ochuman.json")}
    options = _options(args.recipe, args.set)
    report: dict[str, Any] = {"recipe": args.recipe, "options": options, "heights": heights, "runs": []}
    started = time.perf_counter()
    pretrained, pretrained_responses = _score(
        "lightweight", {**{f"{h}-half": (dev / "images", args.out / f"{h}.json") for h in halves}, **others}, heights)
    report["pretrained"] = pretrained
    for direction in args.directions.split(","):
        train_half, test_half = DIRECTIONS[direction]
        sets = {"held-out": (dev / "images", args.out / f"{test_half}.json"),
                "trained-on": (dev / "images", args.out / f"{train_half}.json"), **others}
        scored_as = {"held-out": f"{test_half}-half", "trained-on": f"{train_half}-half", **{k: k for k in others}}
        base = {k: pretrained[v] for k, v in scored_as.items()}
        base_responses = {k: pretrained_responses[v] for k, v in scored_as.items()}
        for steps in (int(s) for s in args.steps.split(",")):
            run_dir = args.out / f"{direction.replace('->', '-')}-{steps}"
            shutil.rmtree(run_dir, ignore_errors=True)  # this script's own earlier run (training refuses to mix runs)
            config = TrainConfig.from_dict({**options, "annotations": args.out / f"{train_half}.json",
                                            "images": dev / "images", "output_dir": run_dir, "steps": steps,
                                            "workers": 0})
            tick = time.perf_counter()
            result = train(config)
            run: dict[str, Any] = {"direction": direction, "steps": steps, "steps_run": result.step,
                                   "train_s": round(time.perf_counter() - tick, 1), "best_step": result.best_step}
            for label, weights in (("last", result.weights), ("best", result.best)):
                if weights is None:
                    continue
                scores, found = _score(str(weights), sets, heights)
                run[label] = scores
                run[f"{label}_change"] = {k: {h: round(v - base[k][h], 4) for h, v in scores[k].items()}
                                          for k in scores}
                run[f"{label}_response_change"] = _response_change(found, base_responses)
            report["runs"].append(run)
            print(_row(run), file=sys.stderr)
    report["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=1))


def _row(run: dict[str, Any]) -> str:
    cells = []
    for label in ("last", "best"):
        change = run.get(f"{label}_change")
        if change:
            moved = run[f"{label}_response_change"]
            cells.append(f"{label}: " + ", ".join(
                f"{k} {v['mean']:+.3f} (limbs {moved[k]['mean']['limbs']:+.4f}, "
                f"{moved[k]['mean']['limbs_fell']:.0%} fell)" for k, v in change.items()))
    return f"{run['direction']} {run['steps']} steps (best step {run['best_step']}): " + "; ".join(cells)


if __name__ == "__main__":
    main()
