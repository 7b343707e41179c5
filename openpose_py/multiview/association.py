"""Which detections in different views are the same person, without ids (after Dong et al., CVPR 2019, and
Pose2Sim's person association: geometric affinity across views, then a one-person-per-view clustering).

1. **Epipolar affinity** (:func:`epipolar_cost`): for two views and a person in each, the median over their shared
   keypoints of the symmetric distance (pixels) of each point to the epipolar line of its partner. The median shrugs
   off outlier points; the cost is also taken with one person's left and right sides exchanged and the lower kept, so
   a detector's left/right swap in one view does not break the match (the swap is remembered and undone before
   triangulation).
2. **Clustering** (:func:`cluster`): greedy agglomeration from the lowest cost up, merging two clusters only when
   they share no view and the median of their cross-view costs stays under the threshold. This linkage is the cycle
   consistency of Dong et al. in its cheap form: a wrong pair that happens to lie on one epipolar line is refused
   once the other views disagree, while one bad pair (a person half out of one picture) does not split a person.
3. **Reprojection check** (:func:`assign_to_people`, used by :mod:`.reconstruct`): each cluster is triangulated and
   every view's detections are matched again to the 3-D people by reprojection error (Hungarian assignment per
   view), which puts back a detection the clustering left out and drops one that does not fit.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["epipolar_cost", "cluster", "assign_to_people", "finite_median"]

Detection = tuple[int, int]  # (view, person index in that view)


def finite_median(values: np.ndarray) -> np.ndarray:
    """The lower median of the finite values along the last axis (inf where there is none): one sort, no masks."""
    if values.shape[-1] == 0:
        return np.full(values.shape[:-1], np.inf)
    finite = np.isfinite(values)
    n = finite.sum(axis=-1)
    ordered = np.sort(np.where(finite, values, np.inf), axis=-1)
    idx = np.clip((n - 1) // 2, 0, values.shape[-1] - 1)[..., None]
    return np.where(n > 0, np.take_along_axis(ordered, idx, -1)[..., 0], np.inf)


def epipolar_cost(a: np.ndarray, b: np.ndarray, F: np.ndarray, flip: Sequence[int],
                  min_shared: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Cost (Pa, Pb) between people ``a`` (Pa, K, 3) of one view and ``b`` (Pb, K, 3) of another (undistorted x, y,
    confidence; 0 = missing), with ``x_b^T F x_a = 0``, and whether b's sides were exchanged (Pa, Pb) to get it.
    Pairs sharing fewer than ``min_shared`` keypoints cost inf."""
    costs = []
    for bb in (b, b[:, list(flip)]):
        ha = np.concatenate([a[..., :2], np.ones(a.shape[:2] + (1,))], axis=-1)  # (Pa, K, 3)
        hb = np.concatenate([bb[..., :2], np.ones(bb.shape[:2] + (1,))], axis=-1)
        line_b = ha @ F.T  # epipolar lines in b of a's points (Pa, K, 3)
        line_a = hb @ F  # in a of b's points (Pb, K, 3)
        num = np.abs(np.einsum("akc,bkc->abk", line_b, hb))
        with np.errstate(divide="ignore", invalid="ignore"):
            d = 0.5 * num * (1.0 / np.linalg.norm(line_b[..., :2], axis=-1)[:, None, :]
                             + 1.0 / np.linalg.norm(line_a[..., :2], axis=-1)[None, :, :])
        shared = (a[:, None, :, 2] > 0) & (bb[None, :, :, 2] > 0) & np.isfinite(d)
        d = np.where(shared, d, np.nan)
        costs.append(np.where(shared.sum(axis=-1) >= min_shared, finite_median(d), np.inf))
    flipped = costs[1] < costs[0]
    return np.where(flipped, costs[1], costs[0]), flipped


def cluster(counts: Sequence[int], costs: dict[tuple[int, int], np.ndarray], threshold: float) -> list[list[Detection]]:
    """Groups of detections (at most one per view) from pairwise costs ``costs[(u, v)]`` (counts[u], counts[v]) for
    views u < v, by greedy median-linkage agglomeration under ``threshold``. Groups of one detection are dropped."""
    def pair_cost(p: Detection, q: Detection) -> float:
        (u, i), (v, j) = sorted((p, q))
        return float(costs[(u, v)][i, j]) if (u, v) in costs else np.inf

    edges = sorted((float(c[i, j]), (u, i), (v, j)) for (u, v), c in costs.items()
                   for i, j in zip(*np.nonzero(c < threshold)))
    group_of: dict[Detection, int] = {(v, i): g for g, (v, i) in enumerate((v, i) for v, n in enumerate(counts)
                                                                          for i in range(n))}
    members: dict[int, list[Detection]] = {g: [d] for d, g in group_of.items()}
    for _, p, q in edges:
        gp, gq = group_of[p], group_of[q]
        if gp == gq or {v for v, _ in members[gp]} & {v for v, _ in members[gq]}:
            continue
        cross = [pair_cost(m, n) for m in members[gp] for n in members[gq]]
        finite = [c for c in cross if np.isfinite(c)]
        if not finite or np.median(finite) >= threshold:
            continue
        members[gp] += members.pop(gq)
        for d in members[gp]:
            group_of[d] = gp
    return sorted((sorted(m) for m in members.values() if len(m) >= 2), key=lambda m: m[0])


def assign_to_people(cost: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """(person, detection) pairs of a minimum-cost one-to-one assignment on ``cost`` (people, detections), keeping
    pairs under ``threshold``."""
    if cost.size == 0:
        return []
    finite = np.where(np.isfinite(cost), cost, 1e12)
    rows, cols = linear_sum_assignment(finite)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if cost[r, c] < threshold]
