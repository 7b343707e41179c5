#!/usr/bin/env python
"""Identity metrics of the tracker on synthetic crossing clips with known ids, from the REAL network's detections.

The clips (scripts/track_clips.py) move people cut from the COCO dev photos along crossing paths; the pose network
runs on every rendered frame, :class:`openpose_py.track.PoseTracker` links its detections, and
:func:`openpose_py.track.metrics.identity_metrics` scores them against the true ids: IDF1, ID switches, detection
recall/precision (OKS >= 0.5 against the visible ground-truth keypoints). One JSON object on stdout: per clip and
overall, with ``switches_per_crossing`` (each clip has two crossings: A-B and A-C). It measures; it never asserts.

``--cache DIR`` keeps the network's detections, so that tracker settings can be compared without the network.

Example:
  python scripts/track_eval.py --height 256 --cache /tmp/track_eval
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import track_clips  # noqa: E402

from openpose_py import PoseEstimator  # noqa: E402
from openpose_py.results import people_from_array  # noqa: E402
from openpose_py.skeleton import COCO_18  # noqa: E402
from openpose_py.track import PoseTracker, TrackerConfig  # noqa: E402
from openpose_py.track.metrics import FramePrediction, IdentityMetrics, identity_metrics  # noqa: E402

CROSSINGS_PER_CLIP = 2


def _clips(args: argparse.Namespace) -> list[track_clips.Clip]:
    return [c for c in track_clips.CLIPS if args.clips is None or c.name in args.clips.split(",")]


def detect(args: argparse.Namespace) -> dict[str, list[np.ndarray]]:
    """{clip name: per frame (P, 18, 3) detections}; with ``--cache DIR`` each clip's are kept in
    ``DIR/<clip>-<model>-<height>.npz`` and reused."""
    estimator = None
    cutouts, back = track_clips.load_cutouts(args.dev_set), track_clips.backdrop(args.dev_set)
    out: dict[str, list[np.ndarray]] = {}
    for clip in _clips(args):
        path = args.cache / f"{clip.name}-{args.model}-{args.backend}-{args.height}.npz" if args.cache else None
        if path is not None and path.is_file():
            data = np.load(path)
            out[clip.name] = [data[str(f)] for f in range(track_clips.FRAMES)]
            continue
        if estimator is None:
            estimator = PoseEstimator.from_pretrained(args.model, height=args.height, backend=args.backend)
        frames, _ = track_clips.render_clip(clip, cutouts, back)
        started = time.perf_counter()
        out[clip.name] = [np.stack([p.as_array() for p in people]) if people else np.zeros((0, 18, 3), np.float32)
                          for people in (estimator(f) for f in frames)]
        print(f"{clip.name}: network {time.perf_counter() - started:.1f} s", file=sys.stderr)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(path, **{str(f): d for f, d in enumerate(out[clip.name])})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev-set", type=Path,
                        default=Path(__file__).resolve().parents[1].parent / "shared/data/coco-val2017-dev")
    parser.add_argument("--model", default="lightweight")
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--backend", default="torch", help="torch, onnxruntime, openvino or openvino-int8")
    parser.add_argument("--max-age", type=float, default=TrackerConfig().max_age)
    parser.add_argument("--min-similarity", type=float, default=TrackerConfig().min_similarity)
    parser.add_argument("--no-motion", action="store_true", help="ablation: no constant-velocity prediction")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--clips", default=None, help="comma-separated clip names (default: all)")
    args = parser.parse_args()
    detections = detect(args)
    cutouts, back = track_clips.load_cutouts(args.dev_set), track_clips.backdrop(args.dev_set)
    config = TrackerConfig(max_age=args.max_age, min_similarity=args.min_similarity, motion=not args.no_motion)
    report: dict[str, Any] = {"model": args.model, "backend": args.backend, "height": args.height,
                              "tracker": asdict(config), "clips": {}}
    idtp = truths = predictions = switches = matches = 0
    for clip in _clips(args):
        _, truth = track_clips.render_clip(clip, cutouts, back)
        tracker = PoseTracker(COCO_18, config)
        preds = []
        for f, dets in enumerate(detections[clip.name]):
            people = tracker.update(people_from_array(dets, COCO_18) if len(dets) else [], f / track_clips.FPS)
            arr = np.stack([p.as_array() for p in people]) if people else np.zeros((0, 18, 3))
            present = np.isfinite(arr[..., 2])
            preds.append(FramePrediction(np.array([p.track_id for p in people], np.int64),
                                         np.nan_to_num(arr[..., :2]), present))
        m: IdentityMetrics = identity_metrics(zip(truth, preds), COCO_18.oks_sigmas)
        report["clips"][clip.name] = {**m.as_dict(), "track_ids": len({i for p in preds for i in p.ids})}
        idtp += round(m.idr * m.truths)
        truths, predictions, switches, matches = (truths + m.truths, predictions + m.predictions,
                                                  switches + m.id_switches, matches + m.matches)
    crossings = CROSSINGS_PER_CLIP * len(_clips(args))
    report["overall"] = {
        "idf1": round(2 * idtp / (truths + predictions), 4), "id_switches": switches, "crossings": crossings,
        "switches_per_crossing": round(switches / crossings, 3), "recall": round(matches / truths, 4),
        "precision": round(matches / predictions, 4), "truths": truths, "predictions": predictions,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
