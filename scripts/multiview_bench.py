"""Multi-view triangulation on real camera geometry (CMU Panoptic, ../shared/data/panoptic-3d): the real 3-D bodies
(moved rigidly for more frames) are projected through real HD cameras with their distortion, the 2-D points spoiled
as a detector would (noise, outliers, a left/right swap in one view, shuffled people, someone missing in a view), then
triangulated by ``openpose_py.multiview.triangulate``. Reports MPJPE (mm), joint coverage, person recall and
precision, and the time per frame.

    python scripts/multiview_bench.py --cameras 4 5 6 --frames 40 --all-views
    python scripts/multiview_bench.py --calibration 8      # calibrate on synthetic boards instead
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from openpose_py.multiview import Camera, MultiviewConfig, TriangulationConfig, triangulate
from openpose_py.multiview.boards import Board, cameras_facing, find_corners, synthetic_views
from openpose_py.multiview.calibrate import calibrate_cameras
from openpose_py.skeleton import get_skeleton

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "panoptic-3d" / "160906_band2"
SKELETON = get_skeleton("COCO_18")
# Panoptic joints19 order -> index for each COCO_18 keypoint (Nose, Neck, RShoulder, ...)
_PANOPTIC = {"Neck": 0, "Nose": 1, "LShoulder": 3, "LElbow": 4, "LWrist": 5, "LHip": 6, "LKnee": 7, "LAnkle": 8,
             "RShoulder": 9, "RElbow": 10, "RWrist": 11, "RHip": 12, "RKnee": 13, "RAnkle": 14, "LEye": 15,
             "LEar": 16, "REye": 17, "REar": 18}
# HD cameras spread around the dome (every ~5th panel)
CAMERA_ORDER = ("00_00", "00_16", "00_05", "00_21", "00_10", "00_26", "00_03", "00_13")


def load_cameras(data: Path, names: tuple[str, ...]) -> list[Camera]:
    """The named HD cameras of the Panoptic calibration, in millimetres."""
    doc = json.loads((data / f"calibration_{data.name}.json").read_text())
    by_name = {c["name"]: c for c in doc["cameras"] if c["type"] == "hd"}
    return [Camera.from_rotation_matrix(n, by_name[n]["K"], by_name[n]["distCoef"], by_name[n]["R"],
                                        10.0 * np.asarray(by_name[n]["t"]).reshape(3), by_name[n]["resolution"])
            for n in names]


def load_bodies(data: Path) -> list[np.ndarray]:
    """Per real frame, (P, 18, 3) COCO_18 joints in millimetres (NaN where Panoptic's confidence is under 0.1)."""
    frames = []
    order = [_PANOPTIC[k] for k in SKELETON.keypoints]
    for path in sorted((data / "hdPose3d_stage1_coco19").glob("*.json")):
        bodies = json.loads(path.read_text())["bodies"]
        arr = np.array([np.asarray(b["joints19"]).reshape(19, 4)[order] for b in bodies])
        frames.append(np.where(arr[..., 3:] > 0.1, arr[..., :3] * 10.0, np.nan))
    return frames


def moved(bodies: np.ndarray, angle: float, shift: np.ndarray) -> np.ndarray:
    """The people rotated by ``angle`` about the vertical (Panoptic's y) through their centre, then shifted."""
    centre = np.nanmean(bodies.reshape(-1, 3), axis=0)
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return (bodies - centre) @ R.T + centre + shift


class Spoil(NamedTuple):  # (not a dataclass: the script tests load this file without a module entry)
    noise_px: float = 1.5
    outliers: float = 0.08


def spoil_views(truth: np.ndarray, cameras: list[Camera], rng: np.random.Generator, spoil: Spoil,
                frame: int) -> list[np.ndarray]:
    """Per camera, (P', 18, 3) detections: noisy points, outliers, one left/right swap (camera frame % V, the first
    person), one person missing (camera (frame + 1) % V, the last person), people in shuffled order."""
    flip = list(SKELETON.flip_keypoints)
    views = []
    for v, cam in enumerate(cameras):
        xy = cam.project(truth) + rng.normal(scale=spoil.noise_px, size=truth.shape[:2] + (2,))
        conf = rng.uniform(0.4, 1.0, size=truth.shape[:2])
        inside = ((xy >= 0) & (xy < np.asarray(cam.size))).all(-1) & np.isfinite(xy).all(-1)
        bad = rng.random(conf.shape) < spoil.outliers
        xy[bad] = rng.uniform((0, 0), cam.size, size=(int(bad.sum()), 2))
        det = np.concatenate([xy, np.where(inside | bad, conf, 0.0)[..., None]], axis=-1)
        if v == frame % len(cameras):
            det[0] = det[0][flip]
        keep = np.arange(len(det))
        if v == (frame + 1) % len(cameras):
            keep = keep[:-1]
        views.append(det[rng.permutation(keep)])
    return views


def score_frame(truth: np.ndarray, found: np.ndarray, match_mm: float = 150.0) -> dict[str, float]:
    """Per-frame counts: matched people (MPJPE under ``match_mm``), errors of their joints, coverage."""
    P, F = len(truth), len(found)
    cost = np.full((P, F), np.inf)
    for i in range(P):
        for j in range(F):
            d = np.linalg.norm(truth[i] - found[j], axis=-1)
            if np.isfinite(d).any():
                cost[i, j] = np.nanmean(d)
    rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e9)) if P and F else ([], [])
    pairs = [(r, c) for r, c in zip(rows, cols) if cost[r, c] < match_mm]
    errors = np.concatenate([np.linalg.norm(truth[r] - found[c], axis=-1) for r, c in pairs]) if pairs else np.zeros(0)
    true_joints = int(np.isfinite(truth).all(-1).sum())
    covered = sum(int((np.isfinite(truth[r]).all(-1) & np.isfinite(found[c]).all(-1)).sum()) for r, c in pairs)
    return {"true": P, "found": F, "matched": len(pairs), "errors": errors[np.isfinite(errors)],
            "true_joints": true_joints, "covered": covered}


def run(cameras: list[Camera], frames: int, seed: int, spoil: Spoil, config: MultiviewConfig,
        data: Path = DEFAULT_DATA) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    real = load_bodies(data)
    totals = {"true": 0, "found": 0, "matched": 0, "true_joints": 0, "covered": 0}
    errors, times = [], []
    for f in range(frames):
        truth = moved(real[f % len(real)], rng.uniform(-0.5, 0.5), np.r_[rng.uniform(-300, 300), 0.0,
                                                                        rng.uniform(-300, 300)])
        views = spoil_views(truth, cameras, rng, spoil, f)
        t0 = time.perf_counter()
        people = triangulate(views, cameras, config, skeleton=SKELETON)
        times.append(time.perf_counter() - t0)
        found = np.array([p.points for p in people]).reshape(-1, SKELETON.num_keypoints, 3)
        s = score_frame(truth, found)
        errors.append(s.pop("errors"))
        for k in totals:
            totals[k] += s[k]
    err = np.concatenate(errors)
    return {
        "cameras": len(cameras), "frames": frames, "people": totals["true"],
        "mpjpe_mm": float(err.mean()), "median_mm": float(np.median(err)), "p95_mm": float(np.percentile(err, 95)),
        "coverage": totals["covered"] / max(totals["true_joints"], 1),
        "recall": totals["matched"] / max(totals["true"], 1), "precision": totals["matched"] / max(totals["found"], 1),
        "ms_per_frame_median": 1e3 * float(np.median(times[1:] if len(times) > 1 else times)),
    }


def calibration_check(cameras: int, views: int, seed: int) -> list[dict[str, float]]:
    """``openpose_py.multiview.calibrate`` on synthetic 9x6 boards (4 cm squares) rendered through known 1280x720
    cameras with distortion, 1.2 m from the shared board: per camera, the RMS reprojection errors and the errors of
    the recovered focal length, lens (over the middle half of the picture), centre and orientation."""
    board = Board(9, 6, 0.04)
    truth = cameras_facing(board, cameras, 1.2, size=(1280, 720), focal=1000.0)
    pictures = synthetic_views(truth, board, views, distance=0.8, seed=seed)
    corners = [[find_corners(p, board) for p in per_cam] for per_cam in pictures]
    found, reports = calibrate_cameras(corners, [c.size for c in truth], [c.name for c in truth], board)
    grid = np.stack(np.meshgrid(np.linspace(320, 960, 9), np.linspace(180, 540, 7)), -1).reshape(-1, 2)
    rows = []
    for f, t, r in zip(found, truth, reports):
        angle = np.degrees(np.linalg.norm(cv2.Rodrigues(f.R @ t.R.T)[0]))
        rows.append({"camera": f.name, "views": r.views, "rms_px": round(r.intrinsic_rms, 4),
                     "shared_view_rms_px": round(r.extrinsic_rms, 4),
                     "focal_error_pct": round(100 * abs(f.K[0, 0] / t.K[0, 0] - 1), 3),
                     "lens_error_px": round(float(np.abs(f.undistort(grid) - t.undistort(grid)).max()), 3),
                     "centre_error_mm": round(1000 * float(np.linalg.norm(f.center - t.center)), 2),
                     "rotation_error_deg": round(float(angle), 4)})
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--cameras", type=int, nargs="+", default=[4, 5, 6])
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--noise", type=float, default=1.5, help="2-D noise, pixels (standard deviation)")
    ap.add_argument("--outliers", type=float, default=0.08, help="fraction of 2-D points replaced at random")
    ap.add_argument("--all-views", action="store_true",
                    help="also run without view selection (every view of a keypoint in one weighted DLT + refinement)")
    ap.add_argument("--calibration", type=int, default=0, metavar="VIEWS",
                    help="instead: check calibrate on synthetic boards, VIEWS board pictures per camera")
    args = ap.parse_args(argv)
    if args.calibration:
        for row in calibration_check(4, args.calibration, args.seed):
            print(json.dumps(row))
        return
    variants = {"view selection": MultiviewConfig()}
    if args.all_views:
        variants["all views"] = MultiviewConfig(TriangulationConfig(threshold=1e9))
    for n in args.cameras:
        cams = load_cameras(args.data, CAMERA_ORDER[:n])
        for name, config in variants.items():
            result = run(cams, args.frames, args.seed, Spoil(args.noise, args.outliers), config, args.data)
            print(json.dumps({"method": name, **{k: round(v, 4) if isinstance(v, float) else v
                                                 for k, v in result.items()}}))


if __name__ == "__main__":
    main()
