#!/usr/bin/env python
"""Identity metrics of the tracker on synthetic crossing clips with known ids, from the REAL network's detections.

The clips (scripts/track_clips.py) move people cut from the COCO dev photos along crossing paths; the pose network
runs on every rendered frame, :class:`openpose_py.track.PoseTracker` links its detections, and
:func:`openpose_py.track.metrics.identity_metrics` scores them against the true ids: IDF1, ID switches, detection
recall/precision (OKS >= 0.5 against the visible ground-truth keypoints, scaled by the visible part as in COCO; and,
as a second reading, ``whole_scale``, by the whole person as MOT17's boxes and PoseTrack's PCKh are). Two trackers
on the same detections: the first one (``pose_only``: pose and motion, an id at first sight, no re-identification)
and the default one (``appearance``: given the frames, tentative tracks, re-identification, short gaps filled in).
One JSON object on stdout: per clip and overall for each. It measures; it never asserts.

``--cache DIR`` keeps the network's detections, so that tracker settings can be compared without the network.
``--scales``/``--flip`` give the estimator multi-scale and mirrored passes (a slower, more complete detector).
``--detector truth`` replaces the network by a detector that finds every counted person: each counted true person's
visible keypoints with ``--truth-noise`` pixels of Gaussian noise per axis (seeded), and the hiding clips' one-frame
flash (a false detection), nothing else (no piece, no mix): the tracker's own identity errors, with the network's
misses taken away.
``--peer DIR`` (a checkout of Lightweight OpenPose) adds a third tracker on the same detections: that project's own
demo tracker (``modules.pose.track_poses``, greedy, by count of similar keypoints, integer pixels), imported from the
checkout and run as its demo runs it: ``peer`` with the demo's default One-Euro smoothing, ``peer_unsmoothed``
without (``--smooth 0``).

Examples:
  python scripts/track_eval.py --height 256 --cache /tmp/track_eval
  python scripts/track_eval.py --backend openvino-int8 --height 368 --scales 1,1.5 --flip --cache /tmp/track_eval
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import track_clips  # noqa: E402

from openpose_py import PoseEstimator  # noqa: E402
from openpose_py.results import people_from_array  # noqa: E402
from openpose_py.skeleton import COCO_18  # noqa: E402
from openpose_py.track import PoseTracker, TrackerConfig  # noqa: E402
from openpose_py.track.stream import Relabeller  # noqa: E402
from openpose_py.track.metrics import FramePrediction, FrameTruth, IdentityMetrics, identity_metrics  # noqa: E402
from openpose_py.track.similarity import duplicates, keypoint_box_area, oks_matrix  # noqa: E402

def _clips(args: argparse.Namespace) -> list[track_clips.Clip]:
    """The clips asked for, their people ``--people-scale`` times as tall."""
    chosen = [c for c in track_clips.CLIPS if args.clips is None or c.name in args.clips.split(",")]
    return chosen if args.people_scale == 1 else [track_clips.smaller(c, args.people_scale) for c in chosen]


def truth_detections(truth: list[FrameTruth], ghosts: dict[int, list[np.ndarray]], noise_px: float,
                     seed: int = 0) -> list[np.ndarray]:
    """Per frame (P, 18, 3): every counted true person's visible keypoints, and every ghost's labelled keypoints in
    the frame (the one-frame flash: a false detection), moved by Gaussian noise of ``noise_px`` pixels, score 0.8,
    NaN elsewhere (a detector that finds every counted person)."""
    rng = np.random.default_rng(seed)
    width, height = track_clips.SIZE
    out = []
    for f, t in enumerate(truth):
        rows = np.flatnonzero(t.counted)
        xy, ok = list(t.xy[rows]), list(t.visible[rows])
        for kps in ghosts.get(f, []):
            xy.append(kps[:, :2])
            inside = (kps[:, 0] >= 0) & (kps[:, 0] < width) & (kps[:, 1] >= 0) & (kps[:, 1] < height)
            ok.append((kps[:, 2] > 0) & inside)
        k = COCO_18.num_keypoints
        xy_arr = np.asarray(xy, np.float64).reshape(-1, k, 2)
        d = np.concatenate([xy_arr + rng.normal(0.0, noise_px, xy_arr.shape), np.full((len(xy), k, 1), 0.8)], -1)
        d[~np.asarray(ok, bool).reshape(-1, k)] = np.nan
        out.append(d.astype(np.float32))
    return out


def detect(args: argparse.Namespace) -> dict[str, list[np.ndarray]]:
    """{clip name: per frame (P, 18, 3) detections}; with ``--cache DIR`` each clip's are kept in
    ``DIR/<clip>-<model>-<height>.npz`` and reused."""
    estimator = None
    cutouts, back = track_clips.load_cutouts(args.dev_set), track_clips.backdrop(args.dev_set)
    out: dict[str, list[np.ndarray]] = {}
    for clip in _clips(args):
        if args.detector == "truth":
            truth = track_clips.render_clip(clip, cutouts, back)[1]
            out[clip.name] = truth_detections(truth, track_clips.ghost_poses(clip, cutouts), args.truth_noise)
            continue
        more = "" if args.scales == "1" and not args.flip else \
            f"-s{args.scales.replace(',', '_')}{'-flip' if args.flip else ''}"
        path = args.cache / f"{clip.name}-{args.model}-{args.backend}-{args.height}{more}.npz" if args.cache else None
        if path is not None and path.is_file():
            data = np.load(path)
            out[clip.name] = [data[str(f)] for f in range(clip.frames)]
            continue
        if estimator is None:
            estimator = PoseEstimator.from_pretrained(args.model, height=args.height, backend=args.backend,
                                                      scales=[float(s) for s in args.scales.split(",")], flip=args.flip)
        frames, _ = track_clips.render_clip(clip, cutouts, back)
        started = time.perf_counter()
        out[clip.name] = [np.stack([p.as_array() for p in people]) if people else np.zeros((0, 18, 3), np.float32)
                          for people in (estimator(f) for f in frames)]
        print(f"{clip.name}: network {time.perf_counter() - started:.1f} s", file=sys.stderr)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(path, **{str(f): d for f, d in enumerate(out[clip.name])})
    return out


def track_clip(detections: list[np.ndarray], frames: list[np.ndarray] | None,
               config: TrackerConfig) -> list[FramePrediction]:
    """The tracker's labelled people per frame (earlier frames relabelled as a file's are; people still without an
    id, ``track_id == -1``, are left out: they are not tracked output)."""
    tracker = PoseTracker(COCO_18, config)
    relabeller = Relabeller(tracker)
    out: list[list] = []
    for f, dets in enumerate(detections):
        people = tracker.update(people_from_array(dets, COCO_18) if len(dets) else [], f / track_clips.FPS,
                                image=None if frames is None else frames[f])
        out += [done for done, _ in relabeller.push(people)]
    out += [done for done, _ in relabeller.flush()]
    preds = []
    for people in out:
        people = [p for p in people if p.track_id >= 0]
        arr = np.stack([p.as_array() for p in people]) if people else np.zeros((0, 18, 3))
        preds.append(FramePrediction(np.array([p.track_id for p in people], np.int64), np.nan_to_num(arr[..., :2]),
                                     np.isfinite(arr[..., 2])))
    return preds


def track_clip_peer(detections: list[np.ndarray], peer: Path, smooth: bool) -> list[FramePrediction]:
    """The peer's demo tracker over the same detections, as its ``demo.run_demo`` calls it: a ``Pose`` per person
    (integer pixels, -1 where missing; confidence: the sum of its keypoint scores, which orders the greedy
    matching as the peer's pose-entry score does), ``track_poses(previous, current, smooth=smooth)``."""
    if str(peer) not in sys.path:
        sys.path.insert(0, str(peer))
    from modules.pose import Pose, track_poses  # the peer's code, from its checkout

    Pose.last_id = -1
    previous: list = []
    preds = []
    for dets in detections:
        current = []
        for person in dets:
            found = np.isfinite(person[:, 2])
            kps = np.full((18, 2), -1, np.int32)
            kps[found] = person[found, :2].astype(np.int32)
            current.append(Pose(kps, float(np.nansum(person[:, 2]))))
        track_poses(previous, current, smooth=smooth)
        previous = current
        xy = np.array([p.keypoints for p in current], np.float64).reshape(-1, 18, 2)
        preds.append(FramePrediction(np.array([p.id for p in current], np.int64), np.where(xy < 0, 0.0, xy),
                                     xy[..., 0] >= 0))
    return preds


def _as_predictions(detections: list[np.ndarray]) -> list[FramePrediction]:
    """The network's own people, each with an id of its own (for detection figures, not identity ones)."""
    out, start = [], 0
    for d in detections:
        out.append(FramePrediction(np.arange(start, start + len(d)), np.nan_to_num(d[..., :2]), np.isfinite(d[..., 2])))
        start += len(d)
    return out


def pieces(detections: list[np.ndarray]) -> int:
    """How many of the network's people are a piece of another found twice (:func:`duplicates`, the default
    tracker's pixel tolerance)."""
    found = [np.isfinite(d).all(axis=-1) & (d[..., 2] > 0) for d in detections]
    return int(sum(duplicates(np.where(ok[..., None], d[..., :2], 0.0), ok, TrackerConfig().min_tolerance_px).sum()
                   for d, ok in zip(detections, found)))


def missed_people(truth: list[FrameTruth], preds: list[FramePrediction]) -> Iterator[tuple[int, int, float]]:
    """(frame, truth row, OKS scale) of every counted true person that no output person matches (OKS < 0.5)."""
    for f, (t, p) in enumerate(zip(truth, preds)):
        area = keypoint_box_area(t.xy, t.visible)
        got = oks_matrix(t.xy, t.visible, p.xy, p.present, COCO_18.oks_sigmas, area, over_a=True)
        for g in np.flatnonzero(t.counted):
            if not (got.shape[1] and got[g].max() >= 0.5):
                yield f, int(g), float(area[g])


def misses(clip: track_clips.Clip, cutouts: list[track_clips.Cutout], truth: list[FrameTruth],
           preds: list[FramePrediction], detections: list[np.ndarray]) -> dict[str, int]:
    """Counted true people the tracked output misses (OKS < 0.5 with every output person), by how much of them can be
    seen (``full``; ``edge``: some labelled keypoints outside the frame; ``behind``: some hidden by someone in front,
    more of them than outside) and by what the network gave (``found``: a detection with OKS >= 0.5 that the output
    lacks; ``poor``: its best detection has OKS 0.3-0.5, a piece or a mix of people; ``none``)."""
    width, height = track_clips.SIZE
    counts: Counter = Counter()
    for f, g, area in missed_people(truth, preds):
        t, d = truth[f], detections[f]
        net = oks_matrix(t.xy[g:g + 1], t.visible[g:g + 1], np.nan_to_num(d[..., :2]), np.isfinite(d[..., 2]),
                         COCO_18.oks_sigmas, np.array([area]), over_a=True)[0]
        labelled = cutouts[clip.walkers[t.ids[g]].person].keypoints[:, 2] > 0
        x, y = t.xy[g, :, 0], t.xy[g, :, 1]
        outside = int((labelled & ~((x >= 0) & (x < width) & (y >= 0) & (y < height))).sum())
        hidden = int(labelled.sum()) - outside - int(t.visible[g].sum())
        seen = "full" if outside + hidden == 0 else ("edge" if outside >= hidden else "behind")
        best = net.max() if len(net) else 0.0
        counts[f"{seen}/{'found' if best >= 0.5 else 'poor' if best >= 0.3 else 'none'}"] += 1
    return dict(sorted(counts.items()))


def score(args: argparse.Namespace, detections: dict[str, list[np.ndarray]], config: TrackerConfig | None,
          appearance: bool, peer_smooth: bool = True) -> dict[str, Any]:
    """Per clip and overall identity metrics of one tracker setting (``appearance``: it is given the frames; no
    ``config``: the peer's tracker from ``args.peer``, ``peer_smooth`` as its demo's ``--smooth``)."""
    cutouts, back = track_clips.load_cutouts(args.dev_set), track_clips.backdrop(args.dev_set)
    report: dict[str, Any] = {"tracker": asdict(config) if config else f"peer: {args.peer}, smooth {peer_smooth}",
                              "frames_given": appearance, "clips": {}}
    idtp = truths = predictions = switches = matches = 0
    whole_sums = np.zeros(2, np.int64)  # identity true positives, truths + predictions: the second reading
    for clip in _clips(args):
        frames, truth = track_clips.render_clip(clip, cutouts, back)
        preds = (track_clip(detections[clip.name], frames if appearance else None, config) if config else
                 track_clip_peer(detections[clip.name], args.peer, peer_smooth))
        m: IdentityMetrics = identity_metrics(zip(truth, preds), COCO_18.oks_sigmas)
        lengths = Counter(i for p in preds for i in p.ids.tolist())
        net = identity_metrics(zip(truth, _as_predictions(detections[clip.name])), COCO_18.oks_sigmas)
        whole = identity_metrics(zip(truth, preds), COCO_18.oks_sigmas, scale="whole")
        whole_sums += (round(whole.idr * whole.truths), whole.truths + whole.predictions)
        f1 = lambda x: round(2 * x.matches / (x.truths + x.predictions), 4)  # noqa: E731
        report["clips"][clip.name] = {**m.as_dict(), "track_ids": len(lengths),
                                      "whole_scale": {"idf1": round(whole.idf1, 4), "id_switches": whole.id_switches,
                                                      "detection_f1": f1(whole)},
                                      "detection_f1": f1(m), "network_detection_f1": f1(net),
                                      "pieces_found_twice": pieces(detections[clip.name]),
                                      "one_frame_ids": sum(n == 1 for n in lengths.values()),
                                      "misses": misses(clip, cutouts, truth, preds, detections[clip.name])}
        idtp += round(m.idr * m.truths)
        truths, predictions, switches, matches = (truths + m.truths, predictions + m.predictions,
                                                  switches + m.id_switches, matches + m.matches)
    report["overall"] = {
        "idf1": round(2 * idtp / (truths + predictions), 4), "id_switches": switches,
        "max_switches_in_a_clip": max(c["id_switches"] for c in report["clips"].values()),
        "min_idf1_of_a_clip": min(c["idf1"] for c in report["clips"].values()),
        "detection_f1": round(2 * matches / (truths + predictions), 4), "recall": round(matches / truths, 4),
        "precision": round(matches / predictions, 4), "truths": truths,
        "predictions": predictions,
        "whole_scale_idf1": round(2 * int(whole_sums[0]) / int(whole_sums[1]), 4),
    }
    return report


def clip_arguments(parser: argparse.ArgumentParser, backend: str, height: int) -> None:
    """The options that say which clips and which detections (shared with scripts/track_misses.py)."""
    parser.add_argument("--dev-set", type=Path,
                        default=Path(__file__).resolve().parents[1].parent / "shared/data/coco-val2017-dev")
    parser.add_argument("--model", default="lightweight")
    parser.add_argument("--height", type=int, default=height)
    parser.add_argument("--backend", default=backend, help="torch, onnxruntime, openvino or openvino-int8")
    parser.add_argument("--cache", type=Path, default=None, help="keep (and reuse) the network's detections here")
    parser.add_argument("--clips", default=None, help="comma-separated clip names (default: all)")
    parser.add_argument("--people-scale", type=float, default=1.0,
                        help="every person this many times as tall (0.35: people 55-80 px tall in the 360 px frame)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    clip_arguments(parser, "torch", 256)
    parser.add_argument("--max-age", type=float, default=TrackerConfig().max_age)
    parser.add_argument("--min-similarity", type=float, default=TrackerConfig().min_similarity)
    parser.add_argument("--max-gap", type=float, default=TrackerConfig().max_gap,
                        help="the default tracker's max_gap (seconds of misses filled in; 0: off)")
    parser.add_argument("--keep-duplicates", action="store_true",
                        help="ablation: the default tracker without drop_duplicates")
    parser.add_argument("--no-motion", action="store_true", help="ablation: no constant-velocity prediction")
    parser.add_argument("--pose-only", action="store_true",
                        help="only the first tracker (pose and motion, id at first sight, no re-identification)")
    parser.add_argument("--scales", default="1", help="comma-separated input scales of the network (multi-scale)")
    parser.add_argument("--flip", action="store_true", help="also run the mirrored frames (with --scales: the "
                        "slower, more complete detector an offline user may choose)")
    parser.add_argument("--detector", choices=("network", "truth"), default="network",
                        help="truth: every counted person's visible keypoints and the flash, with --truth-noise "
                        "(no network)")
    parser.add_argument("--truth-noise", type=float, default=2.0, help="pixels of noise (per axis) of --detector truth")
    parser.add_argument("--peer", type=Path, default=None,
                        help="a checkout of Lightweight OpenPose: also score its demo tracker on the same detections")
    args = parser.parse_args()
    detections = detect(args)
    common = dict(max_age=args.max_age, min_similarity=args.min_similarity, motion=not args.no_motion)
    report: dict[str, Any] = {"model": args.model, "backend": args.backend, "height": args.height,
                              "detector": args.detector if args.detector == "network" else
                              f"truth, {args.truth_noise} px noise",
                              "pose_only": score(args, detections, TrackerConfig.pose_only(**common), False)}
    if not args.pose_only:
        report["appearance"] = score(args, detections, TrackerConfig(**common, max_gap=args.max_gap,
                                                                     drop_duplicates=not args.keep_duplicates), True)
    if args.peer is not None:
        report["peer"] = score(args, detections, None, False)
        report["peer_unsmoothed"] = score(args, detections, None, False, peer_smooth=False)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
