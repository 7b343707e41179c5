#!/usr/bin/env python
"""Distinct track ids on a real video: the network runs once (``--cache DIR`` keeps its detections), then the first
tracker (``pose_only``) and the default one (``appearance``, given the frames) link them, and the report says how
many ids each gave and for how many frames each id labelled someone (people filled in over short gaps, ``max_gap``,
are put back; the video pipeline writes them to files). ``--peer DIR`` adds Lightweight OpenPose's demo tracker on the
same detections, as ``scripts/track_eval.py --peer`` runs it. One JSON object on stdout; it measures, it never
asserts.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))

import track_eval  # noqa: E402

from openpose_py.results import people_from_array  # noqa: E402
from openpose_py.skeleton import COCO_18  # noqa: E402
from openpose_py.track import PoseTracker, TrackerConfig  # noqa: E402
from openpose_py.track.stream import Relabeller  # noqa: E402
from openpose_py.video import VideoSource  # noqa: E402


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
    """Distinct ids and how many frames each labelled a person, for one tracker over the video (earlier frames
    relabelled as the video pipeline does for files)."""
    tracker = PoseTracker(COCO_18, config)
    relabeller = Relabeller(tracker)
    out: list[list] = []
    with VideoSource(video) as source:
        for frame, d in zip(source, dets):
            people = tracker.update(people_from_array(d, COCO_18) if len(d) else [], frame.timestamp,
                                    image=frame.image if appearance else None)
            out += [done for done, _ in relabeller.push(people)]
    out += [done for done, _ in relabeller.flush()]
    lengths = Counter(p.track_id for people in out for p in people if p.track_id >= 0)
    return _spans(lengths) | {"people_filled_in": sum(len(people) for people in out) - sum(len(d) for d in dets),
                              "people_without_id": sum(p.track_id < 0 for people in out for p in people)}


def run_peer(dets: list[np.ndarray], peer: Path) -> dict:
    """The same counts for the peer's demo tracker (it gives every detection an id at once)."""
    preds = track_eval.track_clip_peer(dets, peer, smooth=True)
    return _spans(Counter(i for frame in preds for i in frame.ids.tolist()))


def _spans(lengths: Counter) -> dict:
    """Distinct ids, and for how many frames each labelled someone."""
    spans = sorted(lengths.values(), reverse=True)
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
    parser.add_argument("--peer", type=Path, default=None,
                        help="a checkout of Lightweight OpenPose: also count its demo tracker's ids")
    args = parser.parse_args()
    dets = detections(args.video, args.model, args.backend, args.height, args.cache)
    report = {"video": str(args.video), "frames": len(dets), "detections": int(sum(len(d) for d in dets)),
              "pieces_found_twice": track_eval.pieces(dets)}
    if not args.detect_only:
        report["pose_only"] = run(args.video, dets, TrackerConfig.pose_only(), appearance=False)
        report["appearance"] = run(args.video, dets, TrackerConfig(), appearance=True)
        if args.peer is not None:
            report["peer"] = run_peer(dets, args.peer)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
