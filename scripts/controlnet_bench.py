#!/usr/bin/env python
"""ControlNet figures, one JSON object on stdout (it measures; it never asserts):

- ``speed``: milliseconds per picture of ``OpenposeDetector()(image, detect_resolution=512, image_resolution=512)``
  (the whole call: PIL-style RGB array in, PIL image out) on the photos of ``--images``, median and p90 over
  ``--repeat`` passes after one warm-up pass, for the body alone and with ``include_hand=True, include_face=True``,
  the two calls one after the other on each picture (``people_hands_faces``: how many of each were found in all
  the pictures at 512, i.e. how much part work that figure includes; ``cpu_median_ms`` is the process's CPU time, all its threads, which other
  jobs on a shared machine inflate less than the wall-clock time);
- ``jitter`` (with ``--video``): the network once per frame of a real clip, then the CLI's tracker without and with
  its default One-Euro smoothing (what ``openpose-py video --render-style controlnet`` does, and ``--no-smooth``):
  the mean frame-to-frame acceleration of the keypoints (|second difference| in pixels over keypoints present in
  three consecutive frames of one track), and the flicker of the ControlNet pose video itself: the mean absolute
  change of a pixel between consecutive pictures (0-255) and the fraction of pixels that change.

- ``reference_network`` (with ``--reference-network``): milliseconds per forward pass of controlnet_aux 0.0.10's own
  body network (its ``open_pose/model.py`` ``bodypose_model``, the CMU VGG-19 six-stage network, randomly initialised:
  its checkpoint cannot be fetched here, and the cost does not depend on the weights' values) at the input it runs for
  a 512 x 512 picture (0.5 x 368 = 184 pixels high: 1 x 3 x 184 x 184), in torch float32; its map upsampling and
  Python decoder come on top and are not timed.

Example:
  python scripts/controlnet_bench.py --images ../shared/data/coco-val2017-dev/images --limit 12 \\
      --video ../shared/data/videos/selfie_upper_body.mp4 --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from track_bench import mean_acceleration  # noqa: E402 (the same jitter measure as the tracking figures)


#: The two calls timed, side by side on each picture (the machine's load changes over a run).
_CASES = {"body": {}, "body_hands_face": {"include_hand": True, "include_face": True}}


def speed(images: list[np.ndarray], repeat: int) -> dict[str, dict[str, float | bool | str]]:
    from openpose_py.controlnet import OpenposeDetector, resize_image

    det = OpenposeDetector()
    found = {name: [0, 0, 0] for name in _CASES}  # people, hands, faces found (warm-up pass, at 512)
    for image in images:  # warm-up (loads the part networks too)
        for name, flags in _CASES.items():
            poses = det.detect_poses(resize_image(image, 512), **flags)
            found[name][0] += len(poses)
            found[name][1] += sum((p.left_hand is not None) + (p.right_hand is not None) for p in poses)
            found[name][2] += sum(p.face is not None for p in poses)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in _CASES}
    for _ in range(repeat):
        for image in images:
            for name, flags in _CASES.items():
                t0, c0 = time.perf_counter(), time.process_time()
                det(image, detect_resolution=512, image_resolution=512, **flags)
                times[name].append(((time.perf_counter() - t0) * 1000.0, (time.process_time() - c0) * 1000.0))
    out = {}
    for name, rows in times.items():
        wall, cpu = np.array(rows).T
        out[name] = {"median_ms": round(float(np.median(wall)), 1), "p90_ms": round(float(np.percentile(wall, 90)), 1),
                     "cpu_median_ms": round(float(np.median(cpu)), 1), "pictures": len(wall),
                     "backend": det.estimator.backend, "people_hands_faces": found[name]}
    return out


def reference_network(repeat: int) -> dict[str, float]:
    import importlib.util

    import torch

    spec = importlib.util.find_spec("controlnet_aux")
    path = Path(list(spec.submodule_search_locations)[0]) / "open_pose" / "model.py"
    module_spec = importlib.util.spec_from_file_location("_controlnet_aux_model", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    net = module.bodypose_model().eval()
    x = torch.rand(1, 3, 184, 184) - 0.5
    times = []
    with torch.no_grad():
        net(x)
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            net(x)
            times.append(((time.perf_counter() - t0) * 1000.0, (time.process_time() - c0) * 1000.0))
    wall, cpu = np.array(times).T
    return {"median_ms": round(float(np.median(wall)), 1), "cpu_median_ms": round(float(np.median(cpu)), 1),
            "input": "1x3x184x184", "passes": repeat}


def jitter(video: Path) -> dict[str, float | int]:
    from openpose_py import PoseEstimator
    from dataclasses import replace

    from openpose_py.cli.tracking import TrackingOptions, build_tracker
    from openpose_py.controlnet import ControlNetStyle
    from openpose_py.video import VideoSource

    with VideoSource(video) as source:
        frames = list(source)
    estimator = PoseEstimator.from_pretrained()
    detections = [estimator(f.image) for f in frames]
    style = ControlNetStyle()
    result: dict[str, float | int] = {"frames": len(frames), "backend": estimator.backend}
    for name, smooth in (("no_smooth", False), ("smooth", True)):  # the CLI's own tracker, flags at their defaults
        tracker = build_tracker(replace(TrackingOptions(), smooth=smooth), estimator.skeleton)
        tracks: dict[int, list[np.ndarray]] = {}
        pictures = []
        for frame, people in zip(frames, detections):
            tracked = tracker.update(people, frame.timestamp)
            pictures.append(style.draw(frame.image, tracked).astype(np.int16))
            seen = {p.track_id for p in tracked}
            for p in tracked:
                tracks.setdefault(p.track_id, []).append(p.as_array()[:, :2])
            for tid in set(tracks) - seen:  # a gap: NaN breaks the second difference there
                tracks[tid].append(np.full((estimator.skeleton.num_keypoints, 2), np.nan))
        change = [np.abs(b - a) for a, b in zip(pictures, pictures[1:])]
        result[f"{name}_accel_px"] = mean_acceleration(tracks)
        result[f"{name}_picture_change"] = round(float(np.mean([c.mean() for c in change])), 3)
        result[f"{name}_pixels_changed"] = round(float(np.mean([(c.max(axis=2) > 0).mean() for c in change])), 4)
    result["accel_ratio"] = round(result["smooth_accel_px"] / result["no_smooth_accel_px"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=Path, default=None, help="a folder of photos for the speed figures")
    parser.add_argument("--limit", type=int, default=12, help="photos taken from --images (by name)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--video", type=Path, default=None, help="a clip for the jitter figures")
    parser.add_argument("--reference-network", action="store_true",
                        help="also time controlnet_aux's body network (needs controlnet-aux installed)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    report: dict = {"load_avg_1m_start": os.getloadavg()[0]}
    if args.images is not None:
        from openpose_py.images import load_image

        paths = sorted(p for p in args.images.iterdir() if p.suffix.lower() in (".jpg", ".png"))[:args.limit]
        images = [np.ascontiguousarray(load_image(p)[:, :, ::-1]) for p in paths]
        report["speed"] = speed(images, args.repeat)
    if args.reference_network:
        report["reference_network"] = reference_network(max(4, 4 * args.repeat))
    if args.video is not None:
        report["jitter"] = jitter(args.video)
    report["load_avg_1m_end"] = os.getloadavg()[0]
    print(json.dumps(report))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
