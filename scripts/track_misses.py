#!/usr/bin/env python
"""Could a second look find the people the tracked output misses on the synthetic clips? Two upper bounds, both
given the ground truth (a tracker would only have its predicted pose, so a real second look finds at most this):

- ``peaks``: every keypoint candidate the decoder sees (the network's heatmap peaks over ``--peak-threshold``) is
  taken at its nearest to each visible true keypoint (within 0.15 x the square root of the OKS scale): does that pose
  reach OKS 0.5? This bounds any re-decoding of the frame's own maps around a predicted pose.
- ``crop``: the network runs again on a square crop around the whole true person (all its labelled keypoints, hidden
  or outside the frame too, the box's longer side x 1.3; the part outside the frame grey), scaled to
  ``--crop-height``: does any person it finds reach OKS 0.5? This bounds a top-down second look at the predicted box.

A missed person is as ``scripts/track_eval.py`` counts one: a counted true person (at least 5 visible keypoints) that
no output person of the default tracker matches with OKS >= 0.5, on the detections ``track_eval.py --cache`` keeps.
One JSON object on stdout; it measures, it never asserts.

Example:
  python scripts/track_eval.py --backend openvino-int8 --height 368 --cache /tmp/trk31 > /dev/null
  python scripts/track_misses.py --height 368 --cache /tmp/trk31 --probe peaks --peak-threshold 0.02
  python scripts/track_misses.py --height 368 --cache /tmp/trk31 --probe crop --crop-height 256
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import track_clips  # noqa: E402
import track_eval  # noqa: E402

from openpose_py import PoseEstimator  # noqa: E402
from openpose_py.skeleton import COCO_18  # noqa: E402
from openpose_py.track import TrackerConfig  # noqa: E402
from openpose_py.track.metrics import FrameTruth  # noqa: E402
from openpose_py.track.similarity import oks_matrix  # noqa: E402

GREY = (128, 128, 128)


def _oks(truth: FrameTruth, g: int, area: float, xy: np.ndarray, present: np.ndarray) -> float:
    """OKS of one pose (K, 2) with ``present`` (K,) keypoints against true person ``g``, at the metric's scale."""
    return float(oks_matrix(truth.xy[g:g + 1], truth.visible[g:g + 1], xy[None], present[None], COCO_18.oks_sigmas,
                            np.array([area]), over_a=True)[0, 0])


def from_peaks(truth: FrameTruth, g: int, area: float, candidates: tuple[np.ndarray, ...]) -> float:
    """OKS of the pose made of the candidate nearest to each visible true keypoint (within 0.15 sqrt(area))."""
    xy, present = np.zeros((COCO_18.num_keypoints, 2)), np.zeros(COCO_18.num_keypoints, bool)
    for k in np.flatnonzero(truth.visible[g]):
        if len(candidates[k]) == 0:
            continue
        dist = np.hypot(*(candidates[k][:, :2] - truth.xy[g, k]).T)
        if dist.min() < 0.15 * np.sqrt(area):
            xy[k], present[k] = candidates[k][dist.argmin(), :2], True
    return _oks(truth, g, area, xy, present)


def from_crop(estimator: PoseEstimator, frame: np.ndarray, truth: FrameTruth, g: int, area: float,
              labelled: np.ndarray) -> float:
    """The best OKS of the people the network finds in a crop around the whole true person."""
    height, width = frame.shape[:2]
    pts = truth.xy[g, labelled]
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    side = 1.3 * max(x1 - x0, y1 - y0)
    left, top = int(round((x0 + x1 - side) / 2)), int(round((y0 + y1 - side) / 2))
    size = int(round(side))
    pad = size  # enough grey around the frame for any crop that reaches outside it
    crop = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=GREY)[
        top + pad:top + pad + size, left + pad:left + pad + size]
    best = 0.0
    for person in estimator(crop):
        a = person.as_array()
        xy = a[:, :2] + (left, top)
        present = np.isfinite(a[:, 2]) & (xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0) & (xy[:, 1] < height)
        best = max(best, _oks(truth, g, area, np.nan_to_num(xy), present))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    track_eval.clip_arguments(parser, "openvino-int8", 368)
    parser.add_argument("--probe", choices=("peaks", "crop"), required=True)
    parser.add_argument("--peak-threshold", type=float, default=None, help="peaks: the decoder's (default: its own)")
    parser.add_argument("--crop-height", type=int, default=256, help="crop: the network height for the crop")
    args = parser.parse_args()
    args.scales, args.flip, args.detector = "1", False, "network"
    if args.cache is None:
        parser.error("--cache is needed: the detections scripts/track_eval.py keeps there")
    detections = track_eval.detect(args)
    cutouts, back = track_clips.load_cutouts(args.dev_set), track_clips.backdrop(args.dev_set)
    height = args.crop_height if args.probe == "crop" else args.height
    estimator = PoseEstimator.from_pretrained(args.model, height=height, backend=args.backend)
    if args.peak_threshold is not None:
        estimator = estimator.with_decoder(dataclasses.replace(estimator.decoder, peak_threshold=args.peak_threshold))
    report: dict = {"probe": args.probe, "height": args.height, "clips": {}}
    for clip in track_eval._clips(args):
        frames, truth = track_clips.render_clip(clip, cutouts, back)
        preds = track_eval.track_clip(detections[clip.name], frames, TrackerConfig())
        missed = found = 0
        candidates: dict[int, tuple[np.ndarray, ...]] = {}
        for f, g, area in track_eval.missed_people(truth, preds):
            if args.probe == "peaks":
                if f not in candidates:
                    candidates[f] = estimator.detect(frames[f]).part_candidates
                best = from_peaks(truth[f], g, area, candidates[f])
            else:
                labelled = cutouts[clip.walkers[truth[f].ids[g]].person].keypoints[:, 2] > 0
                best = from_crop(estimator, frames[f], truth[f], g, area, labelled)
            missed += 1
            found += best >= 0.5
        report["clips"][clip.name] = {"missed": missed, "found_by_the_probe": found}
    report["missed"] = sum(c["missed"] for c in report["clips"].values())
    report["found_by_the_probe"] = sum(c["found_by_the_probe"] for c in report["clips"].values())
    print(json.dumps(report))


if __name__ == "__main__":
    main()
