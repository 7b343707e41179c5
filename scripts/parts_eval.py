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
  frame of the body alone, body + each part, and body + all parts, interleaved in one run.

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
from scipy.optimize import linear_sum_assignment

from openpose_py import PoseEstimator
from openpose_py.parts import PartsConfig, PartsEstimator
from openpose_py.results import read_openpose_json
from openpose_py.skeleton import BODY_25

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
COCO = SHARED / "data" / "mmpose-samples" / "coco"
OFFICIAL = SHARED / "data" / "openpose-official-json"
FEET_WB = ("LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel")  # COCO-WholeBody's foot order


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def pck(pred: np.ndarray, ref: np.ndarray, visible: np.ndarray, scale: float, alpha: float) -> tuple[int, int]:
    """(correct, counted) over the visible reference points; NaN predictions are wrong."""
    d = np.linalg.norm(pred[:, :2] - ref[:, :2], axis=1)
    ok = np.isfinite(d) & (d <= alpha * scale)
    return int((ok & visible).sum()), int(visible.sum())


def box_of(points: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = np.nanmin(points[:, :2], axis=0)
    x1, y1 = np.nanmax(points[:, :2], axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def match(found: list, refs: list[np.ndarray]) -> dict[int, int]:
    """Reference index -> found person index, one-to-one by mean distance of the common body points (COCO-17)."""
    if not found or not refs:
        return {}
    ours = np.stack([p.to_coco17() for p in found])
    cost = np.full((len(refs), len(found)), 1e9)
    for r, ref in enumerate(refs):
        both = (ref[None, :, 2] > 0) & (ours[:, :, 2] > 0)
        d = np.linalg.norm(ours[:, :, :2] - ref[None, :, :2], axis=2)
        n = both.sum(axis=1)
        cost[r] = np.where(n > 0, (d * both).sum(axis=1) / np.maximum(n, 1), 1e9)
    rows, cols = linear_sum_assignment(cost)
    return {int(r): int(c) for r, c in zip(rows, cols) if cost[r, c] < 1e8}


def face_nme(pred: np.ndarray, gt: np.ndarray, box_side: float) -> tuple[float, float]:
    err = np.linalg.norm(pred[:68, :2] - gt[:, :2], axis=1)[gt[:, 2] > 0].mean()
    return err / box_side, err / np.linalg.norm(gt[36, :2] - gt[45, :2])


def wholebody(est: PoseEstimator) -> None:
    doc = json.loads((COCO / "test_coco_wholebody.json").read_text())
    images = {im["id"]: cv2.imread(str(COCO / im["file_name"])) for im in doc["images"]}
    people = {i: est(img) for i, img in images.items()}
    ungated = PartsEstimator(PartsConfig(presence=0.0))  # every crop's points, however unsure the network is
    tallies: dict[str, list] = {}
    for ann in doc["annotations"]:
        img = images[ann["image_id"]]
        body = np.asarray(ann["keypoints"], float).reshape(17, 3)
        found = people[ann["image_id"]]
        hit = match(found, [body]).get(0)
        person = found[hit] if hit is not None else None
        for side, part in (("left", "left_hand"), ("right", "right_hand")):
            if not ann[f"{side}hand_valid"]:
                continue
            gt = np.asarray(ann[f"{side}hand_kpts"], float).reshape(21, 3)
            box = ann[f"{side}hand_box"]
            given = est.hands_in_boxes(img, [box])[0]
            tallies.setdefault("hand_given", []).append(pck(given, gt, gt[:, 2] > 0, max(box[2:]), 0.2))
            forced = ungated.hands_in_boxes(img, [box])[0]
            tallies.setdefault("hand_given_no_presence_check", []).append(
                pck(forced, gt, gt[:, 2] > 0, max(box[2:]), 0.2))
            mine = person.part_array(part) if person is not None else np.full((21, 3), np.nan)
            tallies.setdefault("hand_body", []).append(pck(mine, gt, gt[:, 2] > 0, max(box[2:]), 0.2))
        if ann["face_valid"]:
            gt = np.asarray(ann["face_kpts"], float).reshape(68, 3)
            box = ann["face_box"]
            for mode, pred in (("face_given", est.faces_in_boxes(img, [box])[0]),
                               ("face_body", person.part_array("face") if person is not None else None)):
                ok = pred is not None and np.isfinite(pred[:68]).all()
                tallies.setdefault(mode, []).append(face_nme(pred, gt, np.sqrt(box[2] * box[3])) if ok else None)
        if ann["foot_valid"] and person is not None:
            gt = np.asarray(ann["foot_kpts"], float).reshape(6, 3)
            mine = np.stack([[k.x, k.y, k.score] if (k := person[n]) is not None else [np.nan] * 3 for n in FEET_WB])
            given_pts = gt[:, 2] > 0
            given_pts[[1, 4]] = False  # small toes are never given (FEET_NOT_GIVEN)
            tallies.setdefault("feet_body", []).append(pck(mine, gt, given_pts, max(ann["bbox"][2:]), 0.1))
    report_tallies("coco_wholebody_4_photos", tallies)


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
            err = np.nanmean(np.linalg.norm(pred[:70, :2] - ref[:70, :2], axis=1))
            tallies.setdefault(f"face_{mode}", []).append((err / np.sqrt(w * h), err / np.linalg.norm(
                ref[36, :2] - ref[45, :2])))
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


def speed(est: PoseEstimator, repeats: int) -> None:
    folder = OFFICIAL / "slp_pose_openpose_video"
    cap = cv2.VideoCapture(str(folder / "video.mp4"))
    ok, frame = cap.read()
    cap.release()
    person = frame[:, 320:960]
    two = np.ascontiguousarray(np.concatenate([person, person], axis=1))
    variants = {"body": PartsConfig(), "body+hands": PartsConfig(hands=True), "body+face": PartsConfig(face=True),
                "body+feet": PartsConfig(feet=True), "body+hands+face": PartsConfig(hands=True, face=True),
                "body+hands+face+feet": PartsConfig(hands=True, face=True, feet=True)}
    shared = PartsEstimator(PartsConfig())
    views = {}
    for name, cfg in variants.items():
        view = PoseEstimator(est.model, est.spec, runner=est._runner, decoder=est.decoder, parts=cfg)
        view.parts._networks = shared._networks  # one copy of each landmark network for every variant
        views[name] = view
        view(two)  # warm up (loads the networks once)
    times: dict[str, list[float]] = {n: [] for n in views}
    for _ in range(repeats):
        for name, view in views.items():  # interleaved, so a busy moment of the machine hits every variant
            t = time.perf_counter()
            people = view(two)
            times[name].append(time.perf_counter() - t)
    for name, ts in times.items():
        emit(dataset="1280x720_two_people", variant=name, people=len(people), repeats=repeats,
             median_ms=1000 * float(np.median(ts)), p10_ms=1000 * float(np.percentile(ts, 10)),
             p90_ms=1000 * float(np.percentile(ts, 90)), backend=est.backend)


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
                "speed": lambda: speed(est, args.repeats)}
    for name in args.only:
        print(f"running {name}", file=sys.stderr, flush=True)
        sections[name]()


if __name__ == "__main__":
    main()
