#!/usr/bin/env python
"""Distinct track ids on a real video: the network runs once (``--cache DIR`` keeps its detections), then each
tracker setting links them, and the report says how many ids each gave and how long each id lived. One JSON object
on stdout; it measures, it never asserts.

Example:
  python scripts/track_video_ids.py ../shared/data/openpose-media/video.avi --cache /tmp/trk29
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from openpose_py.results import people_from_array
from openpose_py.skeleton import COCO_18
from openpose_py.track import PoseTracker, TrackerConfig
from openpose_py.video import VideoSource


def detections(video: Path, model: str, backend: str, height: int | None, cache: Path | None) -> list[np.ndarray]:
    """Per frame (P, 18, 3) network detections of ``video``, from ``cache`` when it holds them."""
    path = cache / f"{video.stem}-{model}-{backend}-{height}.npz" if cache else None
    if path is not None and path.is_file():
        data = np.load(path)
        return [data[str(i)] for i in range(len(data.files))]
    from openpose_py import PoseEstimator

    estimator = PoseEstimator.from_pretrained(model, height=height, backend=backend)
    out = []
    with VideoSource(video) as source:
        for frame in source:
            out.append(np.stack([p.as_array() for p in estimator(frame.image)]).reshape(-1, 18, 3))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **{str(i): d for i, d in enumerate(out)})
    return out


def run(video: Path, dets: list[np.ndarray], config: TrackerConfig, appearance: bool) -> dict:
    """Distinct ids and track lengths (frames with a labelled person) of one tracker over the video."""
    tracker = PoseTracker(COCO_18, config)
    lengths: Counter = Counter()
    with VideoSource(video) as source:
        for frame, d in zip(source, dets):
            people = people_from_array(d, COCO_18) if len(d) else []
            image = frame.image if appearance else None
            for p in tracker.update(people, frame.timestamp, image=image) if appearance else \
                    tracker.update(people, frame.timestamp):
                if p.track_id >= 0:
                    lengths[p.track_id] += 1
    final = {tid: n for tid, n in lengths.items()}
    for tid, n in tracker.relabelled().items() if hasattr(tracker, "relabelled") else ():
        final[tid] = final.get(tid, 0) + n
    spans = sorted(final.values(), reverse=True)
    return {"distinct_ids": len(spans), "ids_over_30_frames": sum(n > 30 for n in spans),
            "ids_under_5_frames": sum(n < 5 for n in spans), "frames_per_id": spans}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("--model", default="lightweight")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--height", type=int, default=None)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--detect-only", action="store_true")
    args = parser.parse_args()
    dets = detections(args.video, args.model, args.backend, args.height, args.cache)
    report = {"video": str(args.video), "frames": len(dets), "detections": int(sum(len(d) for d in dets))}
    if not args.detect_only:
        report["before"] = run(args.video, dets, TrackerConfig(), appearance=False)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
