#!/usr/bin/env python
"""Hands, faces and feet (openpose_py.parts): accuracy against ground truth and official OpenPose, and cost per
frame. It measures and reports (one JSON line per figure on stdout); it never asserts.

Sections (``--only`` picks some):

- ``wholebody``: the 4 COCO-WholeBody photos (../shared/data/mmpose-samples/coco/test_coco_wholebody.json). Hands:
  PCK@0.2 of the hand box (a labelled point counts when the prediction lies within 0.2 x the longer side of the
  labelled hand box; a hand not found counts as wrong). Faces: NME over the 68 points, normalised by sqrt(w x h) of
  the labelled face box and, separately, by the distance between the outer eye corners (points 36 and 45); a face
  not found is counted apart. Feet: PCK@0.1 of the person box (longer side) for heels and big toes. Each with the
  boxes given from the labels (``hands_in_boxes``/``faces_in_boxes``) and from the body (the full pipeline, each
  labelled person matched to the nearest found body).
- ``slp``: the 9 frames of ../shared/data/openpose-official-json/slp_pose_openpose_video against OpenPose's own hands
  and face: hands PCK@0.2 of OpenPose's hand box, faces NME normalised by OpenPose's face box; from our body and
  from OpenPose's body (which isolates the part networks).
- ``badminton``: ../shared/data/openpose-official-json/badminton_first500, every ``--stride``-th frame: BODY_25 body
  and feet against OpenPose's, PCK@0.1 of OpenPose's person box (longer side), people matched one-to-one (Hungarian)
  by mean distance; OpenPose's points with confidence >= ``--min-conf`` are the reference.
- ``speed``: one 1280x720 frame with two people (the slp frame's person twice, side by side): the median time per
  frame of the body alone, body + each part, and body + all parts, interleaved in one run; and the body network's
  own time (its runner's calls within the body-only frames), which the issue takes as the budget of the parts.

Example:
  nice python scripts/parts_eval.py --threads 2 > parts.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from openpose_py import PoseEstimator
from openpose_py.evaluate_parts import PART_NAMES, add_scores, box_of, face_nme, pck, score_parts
from openpose_py.evaluate_parts import match_people as match
from openpose_py.parts import PartsConfig, PartsEstimator
from openpose_py.results import read_openpose_json
from openpose_py.skeleton import BODY_25

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
COCO = SHARED / "data" / "mmpose-samples" / "coco"
OFFICIAL = SHARED / "data" / "openpose-official-json"


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def wholebody(est: PoseEstimator) -> None:
    """Given boxes (with and without the presence check) here; from the body through the library's scoring, the one
    ``openpose-py eval --hand --face --feet`` reports."""
    doc = json.loads((COCO / "test_coco_wholebody.json").read_text())
    images = {im["id"]: cv2.imread(str(COCO / im["file_name"])) for im in doc["images"]}
    ungated = PartsEstimator(PartsConfig(presence=0.0))  # every crop's points, however unsure the network is
    tallies: dict[str, list] = {}
    for ann in doc["annotations"]:
        img = images[ann["image_id"]]
        for side in ("left", "right"):
            if not ann[f"{side}hand_valid"]:
                continue
            gt = np.asarray(ann[f"{side}hand_kpts"], float).reshape(21, 3)
            box = ann[f"{side}hand_box"]
            for mode, runner in (("hand_given", est), ("hand_given_no_presence_check", ungated)):
                pred = runner.hands_in_boxes(img, [box])[0]
                tallies.setdefault(mode, []).append(pck(pred, gt, gt[:, 2] > 0, max(box[2:]), 0.2))
        if ann["face_valid"]:
            gt = np.asarray(ann["face_kpts"], float).reshape(68, 3)
            box = ann["face_box"]
            pred = est.faces_in_boxes(img, [box])[0]
            ok = np.isfinite(pred[:68]).all()
            tallies.setdefault("face_given", []).append(face_nme(pred, gt, np.sqrt(box[2] * box[3])) if ok else None)
    report_tallies("coco_wholebody_4_photos", tallies)
    from_body = add_scores(score_parts(est(img), [a for a in doc["annotations"] if a["image_id"] == i], PART_NAMES)
                           for i, img in images.items())
    emit(dataset="coco_wholebody_4_photos", metric="from_body", **from_body.as_dict())


def report_tallies(dataset: str, tallies: dict[str, list]) -> None:
    for key, rows in tallies.items():
        if key.startswith("face"):
            found = [r for r in rows if r is not None]
            emit(dataset=dataset, metric=f"{key}_nme", faces=len(rows), found=len(found),
                 nme_box=float(np.mean([r[0] for r in found])) if found else None,
                 nme_interocular=float(np.mean([r[1] for r in found])) if found else None)
        else:
            correct, counted = map(sum, zip(*rows))
            emit(dataset=dataset, metric=f"{key}_pck", instances=len(rows), points=counted,
                 pck=correct / max(counted, 1))


def slp(est: PoseEstimator) -> None:
    folder = OFFICIAL / "slp_pose_openpose_video"
    cap = cv2.VideoCapture(str(folder / "video.mp4"))
    tallies: dict[str, list] = {}
    for i in range(9):
        ok, frame = cap.read()
        if not ok:
            break
        (official,) = read_openpose_json(folder / f"video_{i:012d}_keypoints.json", BODY_25)
        bare = replace(official, left_hand=None, right_hand=None, face=None)
        hits = est(frame)
        (on_theirs,) = est.parts.add_parts(frame, [bare])
        ours = hits[match(hits, [official.to_coco17()]).get(0, 0)] if hits else None
        for mode, person in (("our_body", ours), ("openpose_body", on_theirs)):
            for part in ("left_hand", "right_hand"):
                ref = official.part_array(part)
                vis = np.isfinite(ref[:, 0])
                pred = person.part_array(part) if person is not None else np.full((21, 3), np.nan)
                tallies.setdefault(f"hand_{mode}", []).append(pck(pred, ref, vis, max(box_of(ref)[2:]), 0.2))
            ref = official.part_array("face")
            pred = person.part_array("face") if person is not None else None
            if pred is None or not np.isfinite(pred[:68]).all():
                tallies.setdefault(f"face_{mode}", []).append(None)
                continue
            x, y, w, h = box_of(ref[:68])
            tallies.setdefault(f"face_{mode}", []).append(face_nme(pred, ref, np.sqrt(w * h)))
    cap.release()
    report_tallies("slp_9_frames_vs_openpose", tallies)


def badminton(est: PoseEstimator, stride: int, min_conf: float) -> None:
    folder = OFFICIAL / "badminton_first500"
    cap = cv2.VideoCapture(str(folder / "video.mp4"))
    body_idx = [i for i, n in enumerate(BODY_25.keypoints) if i < 19]
    feet_idx = [BODY_25.index(n) for n in ("LBigToe", "LHeel", "RBigToe", "RHeel")]
    small_idx = [BODY_25.index(n) for n in ("LSmallToe", "RSmallToe")]
    counts = {"body": [0, 0], "feet": [0, 0], "small_toes": [0, 0]}
    people_ref = people_matched = frames = 0
    for i in range(500):
        ok, frame = cap.read()
        if not ok:
            break
        if i % stride:
            continue
        frames += 1
        refs = [p.as_array() for p in read_openpose_json(folder / "json" / f"video_{i:012d}_keypoints.json", BODY_25)]
        found = est(frame)
        arrs = [p.as_array() for p in found]
        pairs = match(found, [_coco17_of(r) for r in refs])
        people_ref += len(refs)
        people_matched += len(pairs)
        for r, ref in enumerate(refs):
            pred = arrs[pairs[r]] if r in pairs else np.full((25, 3), np.nan)
            vis = np.nan_to_num(ref[:, 2]) >= min_conf
            scale = max(box_of(ref[vis])[2:]) if vis.sum() >= 2 else 0.0
            for key, idx in (("body", body_idx), ("feet", feet_idx), ("small_toes", small_idx)):
                c, n = pck(pred[idx], ref[idx], vis[idx], scale, 0.1)
                counts[key][0] += c
                counts[key][1] += n
    cap.release()
    for key, (c, n) in counts.items():
        emit(dataset=f"badminton_first500_every_{stride}th_frame", metric=f"{key}_pck@0.1", frames=frames,
             openpose_people=people_ref, matched=people_matched, points=n, pck=c / max(n, 1))


def _coco17_of(body25: np.ndarray) -> np.ndarray:
    order = BODY_25.coco17
    out = np.zeros((17, 3))
    rows = body25[list(order)]
    ok = np.isfinite(rows).all(axis=1)
    out[ok, :2] = rows[ok, :2]
    out[ok, 2] = 2.0
    return out


def speed(est: PoseEstimator, repeats: int, threads: int | None) -> None:
    folder = OFFICIAL / "slp_pose_openpose_video"
    cap = cv2.VideoCapture(str(folder / "video.mp4"))
    ok, frame = cap.read()
    cap.release()
    person = frame[:, 320:960]
    two = np.ascontiguousarray(np.concatenate([person, person], axis=1))
    variants = {"body": {}, "body+hands": dict(hands=True), "body+face": dict(face=True), "body+feet": dict(feet=True),
                "body+hands+face": dict(hands=True, face=True),
                "body+hands+face+feet": dict(hands=True, face=True, feet=True)}
    shared = PartsEstimator(PartsConfig(threads=threads))
    network = _TimedRunner(est._runner)  # the body network's own time, inside the "body" variant's frames
    views = {}
    for name, chosen in variants.items():
        view = PoseEstimator(est.model, est.spec, runner=network, decoder=est.decoder,
                             parts=PartsConfig(threads=threads, **chosen))
        view.parts._networks = shared._networks  # one copy of each landmark network for every variant
        views[name] = view
        view(two)  # warm up (loads the networks once)
    times: dict[str, list[float]] = {n: [] for n in views}
    times["body network alone"] = []
    for _ in range(repeats):
        for name, view in views.items():  # interleaved, so a busy moment of the machine hits every variant
            network.times.clear()
            t = time.perf_counter()
            people = view(two)
            times[name].append(time.perf_counter() - t)
            if name == "body":
                times["body network alone"].append(sum(network.times))
    for name, ts in times.items():
        emit(dataset="1280x720_two_people", variant=name, people=len(people), repeats=repeats, threads=threads,
             median_ms=1000 * float(np.median(ts)), p10_ms=1000 * float(np.percentile(ts, 10)),
             p90_ms=1000 * float(np.percentile(ts, 90)), backend=est.backend)


class _TimedRunner:
    """The body network's runner, noting how long each call takes."""

    def __init__(self, runner) -> None:
        self.runner, self.times = runner, []

    def __call__(self, x):
        t = time.perf_counter()
        out = self.runner(x)
        self.times.append(time.perf_counter() - t)
        return out

    def __getattr__(self, name: str):
        return getattr(self.runner, name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", default=["wholebody", "slp", "badminton", "speed"])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--stride", type=int, default=10, help="badminton: every N-th frame")
    ap.add_argument("--min-conf", type=float, default=0.1, help="badminton: OpenPose points counted")
    ap.add_argument("--repeats", type=int, default=10, help="speed: timed frames per variant")
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    parts = PartsConfig(hands=True, face=True, feet=True, threads=args.threads)
    est = PoseEstimator.from_pretrained(threads=args.threads, parts=parts)
    sections = {"wholebody": lambda: wholebody(est), "slp": lambda: slp(est),
                "badminton": lambda: badminton(PoseEstimator.from_pretrained(
                    threads=args.threads, parts=PartsConfig(feet=True, threads=args.threads)), args.stride,
                    args.min_conf),
                "speed": lambda: speed(est, args.repeats, args.threads)}
    for name in args.only:
        print(f"running {name}", file=sys.stderr, flush=True)
        sections[name]()


if __name__ == "__main__":
    main()
