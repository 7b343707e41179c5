"""Identity metrics of tracked poses against ground-truth identities: IDF1 (Ristani et al., 2016), CLEAR-MOT ID
switches, detection recall and precision.

A predicted pose and a ground-truth pose correspond in a frame when their OKS (COCO's, over the ground truth's
visible keypoints, scaled by its keypoint-box area) reaches ``threshold``. Ground-truth poses marked as not
``counted`` (mostly hidden behind someone) are "don't care": a prediction matching one is neither right nor wrong.

The scale is, as in COCO, that of the visible part (the box of the visible keypoints); with ``scale="whole"`` it is
that of the whole person (:attr:`FrameTruth.whole_area`, the box of all its labelled keypoints, hidden or outside the
frame too), as MOT17's boxes cover the whole of a partly hidden person and PoseTrack's PCKh scales by the head
whatever is visible: a second reading, for people of whom only a small part shows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

import numpy as np
from scipy.optimize import linear_sum_assignment

from .similarity import keypoint_box_area, oks_matrix

__all__ = ["FrameTruth", "FramePrediction", "IdentityMetrics", "identity_metrics"]


@dataclass(frozen=True)
class FrameTruth:
    """Ground truth of one frame: G people with ids, (G, K, 2) positions, (G, K) visible keypoints, (G,) counted."""

    ids: np.ndarray
    xy: np.ndarray
    visible: np.ndarray
    counted: np.ndarray
    whole_area: np.ndarray | None = None  # (G,) squared scale of each whole person, for ``scale="whole"``


@dataclass(frozen=True)
class FramePrediction:
    """Tracker output of one frame: P people with track ids, (P, K, 2) positions and (P, K) present keypoints."""

    ids: np.ndarray
    xy: np.ndarray
    present: np.ndarray


@dataclass(frozen=True)
class IdentityMetrics:
    """IDF1/IDP/IDR, ID switches, detection recall/precision and the counts behind them."""

    idf1: float
    idp: float
    idr: float
    id_switches: int
    recall: float
    precision: float
    truths: int
    predictions: int
    matches: int

    def as_dict(self) -> dict[str, float | int]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in vars(self).items()}


def _frame_pairs(truth: FrameTruth, pred: FramePrediction, sigmas: np.ndarray, threshold: float,
                 previous: dict[int, int], scale: str = "visible") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(OKS matrix G x P, matched truth rows, matched prediction rows) for one frame; CLEAR-MOT style, pairs that
    continue last frame's correspondence win ties."""
    if len(truth.ids) == 0 or len(pred.ids) == 0:
        empty = np.zeros(0, np.int64)
        return np.zeros((len(truth.ids), len(pred.ids))), empty, empty
    area = truth.whole_area if scale == "whole" else keypoint_box_area(truth.xy, truth.visible)
    sim = oks_matrix(truth.xy, truth.visible, pred.xy, pred.present, sigmas, area, over_a=True)
    ok = sim >= threshold
    keep = np.array([[previous.get(int(g)) == int(p) for p in pred.ids] for g in truth.ids])
    rows, cols = linear_sum_assignment(np.where(ok, sim + keep, -1.0), maximize=True)
    good = ok[rows, cols]
    return sim, rows[good], cols[good]


def identity_metrics(frames: Iterable[tuple[FrameTruth, FramePrediction]], sigmas: np.ndarray,
                     threshold: float = 0.5, scale: str = "visible") -> IdentityMetrics:
    """Score a tracked sequence (frames in order) against its ground truth; ``scale`` "visible" (COCO's) or "whole"
    (every truth then needs ``whole_area``)."""
    if scale not in ("visible", "whole"):
        raise ValueError(f"scale must be 'visible' or 'whole', got {scale!r}")
    co: dict[tuple[int, int], int] = defaultdict(int)  # (truth id, track id) -> frames where they correspond
    truth_n: dict[int, int] = defaultdict(int)
    pred_n: dict[int, int] = defaultdict(int)
    previous: dict[int, int] = {}
    switches = matches = 0
    for truth, pred in frames:
        sim, rows, cols = _frame_pairs(truth, pred, sigmas, threshold, previous, scale)
        # predictions on uncounted (hidden) people are dropped from the frame, as are those people
        dropped = {int(c) for r, c in zip(rows, cols) if not truth.counted[r]}
        counted = np.flatnonzero(truth.counted)
        live = [j for j in range(len(pred.ids)) if j not in dropped]
        for g in counted:
            truth_n[int(truth.ids[g])] += 1
        for j in live:
            pred_n[int(pred.ids[j])] += 1
        for g in counted:
            for j in live:
                if sim[g, j] >= threshold:
                    co[int(truth.ids[g]), int(pred.ids[j])] += 1
        for r, c in zip(rows, cols):
            if not truth.counted[r]:
                continue
            g, p = int(truth.ids[r]), int(pred.ids[c])
            matches += 1
            if g in previous and previous[g] != p:
                switches += 1
            previous[g] = p
    truth_ids, pred_ids = sorted(truth_n), sorted(pred_n)
    idtp = 0
    if truth_ids and pred_ids:
        table = np.array([[co.get((g, p), 0) for p in pred_ids] for g in truth_ids], dtype=np.float64)
        rows, cols = linear_sum_assignment(table, maximize=True)
        idtp = int(table[rows, cols].sum())
    n_truth, n_pred = sum(truth_n.values()), sum(pred_n.values())
    return IdentityMetrics(
        idf1=2 * idtp / (n_truth + n_pred) if n_truth + n_pred else 1.0,
        idp=idtp / n_pred if n_pred else 1.0,
        idr=idtp / n_truth if n_truth else 1.0,
        id_switches=switches,
        recall=matches / n_truth if n_truth else 1.0,
        precision=matches / n_pred if n_pred else 1.0,
        truths=n_truth,
        predictions=n_pred,
        matches=matches,
    )
