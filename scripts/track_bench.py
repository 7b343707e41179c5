#!/usr/bin/env python
"""Tracking and smoothing figures, one JSON object on stdout (it measures; it never asserts):

- ``cost``: milliseconds per :meth:`PoseTracker.update` for ``--people`` synthetic COCO-18 people per frame
  (wall-clock median and p90 over ``--frames`` frames, and the median CPU time of the calling thread, which other
  jobs on a shared machine inflate less, and its 10th percentile, the least disturbed frames): the first tracker's
  settings without the frame (``pose_only``), the default tracker given a 1920x1080 frame for its appearance cue
  (``tracking``), and that with One-Euro smoothing; and, with a tenth of the people missed in each frame, the
  default tracker through a file's output path (:class:`Relabeller`) with ``max_gap`` 0 and with gaps filled;
- ``lag``: a keypoint moving at constant speed through the One-Euro filter (default :class:`SmoothingConfig`,
  30 frames/s): its steady-state lag behind the true position (after 4 s), in frames of motion, per speed, and
  the lag half a second after it starts moving;
- ``jitter`` (with ``--video``): the real network on a real clip, then the mean frame-to-frame acceleration of the
  keypoints (|second difference| in pixels, over keypoints present in three consecutive frames of the same track)
  without and with smoothing, and their ratio; ``--cache DIR`` keeps the detections for parameter sweeps.

Example:
  python scripts/track_bench.py --video ../shared/data/videos/selfie_upper_body.mp4 --cache /tmp/track_bench
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from openpose_py.results import people_from_array
from openpose_py.skeleton import COCO_18
from openpose_py.track import OneEuroFilter, PoseTracker, SmoothingConfig, TrackerConfig
from openpose_py.track.stream import Relabeller


def cost(people: int, frames: int, smoothing: SmoothingConfig | None, config: TrackerConfig = TrackerConfig(),
         image: np.ndarray | None = None, missed: float = 0.0, relabel: bool = False) -> dict[str, float]:
    """Per-frame cost; ``missed``: share of the people left out of each frame at random (gaps); ``relabel``: a
    file's output path too (each update's people through a :class:`Relabeller`, which fills gaps)."""
    rng = np.random.default_rng(0)
    k = COCO_18.num_keypoints
    start = np.stack([rng.uniform(0, 1920, people), rng.uniform(0, 1080, people)], axis=1)
    velocity = rng.normal(0, 5, (people, 2))
    pose = rng.uniform(-60, 60, (people, k, 2))
    tracker = PoseTracker(COCO_18, config, smoothing=smoothing)
    relabeller = Relabeller(tracker) if relabel else None
    times = []
    for f in range(frames):
        xy = start[:, None] + velocity[:, None] * f + pose + rng.normal(0, 2, (people, k, 2))
        arr = np.concatenate([xy, rng.uniform(0.2, 1.0, (people, k, 1))], axis=2)
        arr[rng.random((people, k)) < 0.1, 2] = 0.0  # a tenth of the keypoints missing, as in real output
        shown = rng.permutation(people)[:people - int(rng.binomial(people, missed))] if missed else \
            rng.permutation(people)
        batch = people_from_array(arr[shown], COCO_18)
        t0, c0 = time.perf_counter(), time.thread_time()
        out = tracker.update(batch, f / 30.0, image=image)
        if relabeller is not None:
            relabeller.push(out)
        times.append(((time.perf_counter() - t0) * 1000.0, (time.thread_time() - c0) * 1000.0))
    wall, cpu = np.array(times[10:]).T
    return {"median_ms": round(float(np.median(wall)), 4), "p90_ms": round(float(np.percentile(wall, 90)), 4),
            "cpu_median_ms": round(float(np.median(cpu)), 4), "cpu_p10_ms": round(float(np.percentile(cpu, 10)), 4)}


def lag(speeds: list[float], config: SmoothingConfig, fps: float = 30.0) -> list[dict[str, float]]:
    out = []
    for v in speeds:  # pixels per frame
        f = OneEuroFilter((1,), config)
        n = 120
        smoothed = [f(np.array([[v * i, 0.0]]), None, i / fps)[0, 0] for i in range(n)]
        lag_px = v * (n - 1) - smoothed[-1]
        early = v * 15 - smoothed[15]  # half a second after the point starts moving
        out.append({"speed_px_per_frame": v, "lag_px": round(float(lag_px), 3),
                    "lag_frames": round(float(lag_px / v), 3), "lag_frames_at_0.5s": round(float(early / v), 3)})
    return out


def mean_acceleration(tracks: dict[int, list[np.ndarray]]) -> float:
    """Mean |second difference| in pixels of the keypoints of each track's (K, 2) rows, over keypoints present in
    three consecutive rows (NaN rows mark gaps)."""
    acc = []
    for rows in tracks.values():
        a = np.array(rows)
        if len(a) >= 3:
            d2 = np.linalg.norm(a[2:] - 2 * a[1:-1] + a[:-2], axis=-1)
            acc.append(d2[np.isfinite(d2)])
    return round(float(np.concatenate(acc).mean()), 3)


def jitter(video: Path, height: int | None, config: SmoothingConfig, cache: Path | None) -> dict[str, float]:
    from openpose_py import PoseEstimator
    from openpose_py.video import VideoSource

    with VideoSource(video) as source:
        frames = list(source)
    path = cache / f"{video.stem}-{height}.npz" if cache else None
    if path is not None and path.is_file():
        data = np.load(path)
        detections = [people_from_array(data[str(i)], COCO_18) for i in range(len(frames))]
    else:
        estimator = PoseEstimator.from_pretrained("lightweight", height=height)
        detections = [estimator(f.image) for f in frames]
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(path, **{str(i): np.stack([p.as_array() for p in people]).reshape(-1, 18, 3)
                                         for i, people in enumerate(detections)})
    result = {"frames": len(frames), "height": height}
    for name, smoothing in (("raw", None), ("smoothed", config)):
        tracker = PoseTracker(COCO_18, TrackerConfig(), smoothing=smoothing)
        tracks: dict[int, list[np.ndarray]] = {}
        for frame, people in zip(frames, detections):
            seen = set()
            for p in tracker.update(people, frame.timestamp):
                tracks.setdefault(p.track_id, []).append(p.as_array()[:, :2])
                seen.add(p.track_id)
            for tid in set(tracks) - seen:  # a gap: NaN breaks the second difference there
                tracks[tid].append(np.full((COCO_18.num_keypoints, 2), np.nan))
        result[f"{name}_accel_px"] = mean_acceleration(tracks)
    result["ratio"] = round(result["smoothed_accel_px"] / result["raw_accel_px"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--video", type=Path, default=None)
    parser.add_argument("--height", type=int, default=368, help="network input height for --video")
    parser.add_argument("--cache", type=Path, default=None, help="keep the network's detections of --video here")
    parser.add_argument("--min-cutoff", type=float, default=SmoothingConfig().min_cutoff)
    parser.add_argument("--beta", type=float, default=SmoothingConfig().beta)
    parser.add_argument("--d-cutoff", type=float, default=SmoothingConfig().d_cutoff)
    args = parser.parse_args()
    config = SmoothingConfig(args.min_cutoff, args.beta, args.d_cutoff)
    # the frame the people are "in", for the appearance cue: a 1920x1080 real photo, scaled (pixels only read)
    photo = Path(__file__).resolve().parents[1].parent / "shared/data/coco-val2017-dev/images/000000000802.jpg"
    frame = cv2.resize(cv2.imread(str(photo)), (1920, 1080)) if photo.is_file() else \
        np.random.default_rng(0).integers(0, 256, (1080, 1920, 3), np.uint8)
    report: dict = {
        "smoothing": {"min_cutoff": config.min_cutoff, "beta": config.beta, "d_cutoff": config.d_cutoff},
        "cost": {"people": args.people,
                 "pose_only": cost(args.people, args.frames, None, TrackerConfig.pose_only()),
                 "tracking": cost(args.people, args.frames, None, image=frame),
                 "tracking_and_smoothing": cost(args.people, args.frames, config, image=frame),
                 # a tenth of the people missed in each frame, through the file path: without and with gap filling
                 "file_misses_no_gaps": cost(args.people, args.frames, None, TrackerConfig(max_gap=0.0), image=frame,
                                             missed=0.1, relabel=True),
                 "file_misses_gaps_filled": cost(args.people, args.frames, None, image=frame, missed=0.1,
                                                 relabel=True)},
        "lag": lag([1.0, 2.0, 5.0, 10.0, 20.0], config),
    }
    if args.video is not None:
        report["jitter"] = jitter(args.video, args.height, config, args.cache)
    report["load_avg_1m"] = os.getloadavg()[0]
    print(json.dumps(report))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
