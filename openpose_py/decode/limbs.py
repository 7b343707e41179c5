"""Limb candidates: every (A peak, B peak) pair of every limb scored at once by the PAF line integral, then matched.

Matching is per limb, as a bipartite problem: greedy by score (what OpenPose does) or optimal assignment.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from ..grid import MapGrid
from ..skeleton import Skeleton
from .peaks import Peaks

__all__ = ["LimbScoring", "LimbCandidates", "score_limbs", "match_limbs", "sample_bilinear", "paf_projections",
           "optimal_choice"]


class LimbScoring(NamedTuple):
    """How a candidate limb is scored (the decoder's config supplies these)."""

    samples: int | None  # fixed number of samples on the segment; None = OpenPose C++'s length-dependent count
    threshold: float  # a sample passes if dot(PAF, unit vector) > threshold
    min_inlier_ratio: float  # accept if passing samples > ratio * samples
    distance_prior: bool  # CVPR'17: add min(0.5 * image height / length - 1, 0) and require score > 0
    inliers_only: bool  # score = mean of passing samples (C++) instead of all samples (CVPR'17)
    short_limb: float | None  # C++: accept limbs shorter than this (input px) whatever their PAF score


class LimbCandidates(NamedTuple):
    """Scored candidate pairs of all limbs, padded into one tensor per limb.

    scores: (L, A, B) with -inf where a pair is not acceptable; index_a / index_b: (L, A) / (L, B) global peak index
    (-1 for padding).
    """

    scores: Tensor
    index_a: Tensor
    index_b: Tensor


def sample_bilinear(maps: Tensor, channel: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """Bilinear values of ``maps`` (C, h, w) at map coordinates (x, y) in the given channels (all same shape)."""
    _, h, w = maps.shape
    x = x.clamp(0, w - 1)
    y = y.clamp(0, h - 1)
    x0 = x.floor().clamp(max=w - 2 if w > 1 else 0)
    y0 = y.floor().clamp(max=h - 2 if h > 1 else 0)
    fx, fy = x - x0, y - y0
    x0, y0 = x0.long(), y0.long()
    x1, y1 = (x0 + 1).clamp(max=w - 1), (y0 + 1).clamp(max=h - 1)
    flat = maps.reshape(-1)
    base = channel * (h * w)
    v00 = flat[base + y0 * w + x0]
    v01 = flat[base + y0 * w + x1]
    v10 = flat[base + y1 * w + x0]
    v11 = flat[base + y1 * w + x1]
    return (v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy


def paf_projections(pafs: Tensor, skeleton: Skeleton, limb: Tensor, a: Tensor, b: Tensor, stride: float,
                    samples: int | None) -> tuple[Tensor, Tensor, Tensor]:
    """The PAF line integral's samples: for each segment, the PAF of its limb projected onto the segment's direction
    at evenly spaced points from ``a`` to ``b``, ends included.

    Args:
        pafs: (2L, h, w) in the skeleton's PAF channel layout, ``stride`` input pixels per cell (non-finite values
            count as 0).
        limb: (P,) limb index of each segment. a, b: (P, 2) its ends in input pixels (x, y).
        samples: points per segment; None: OpenPose C++'s count, ``sqrt(5 * longer side in pixels)`` rounded, 5-25.

    Returns:
        (dots (P, S), valid (P, S), counts (P,) float): the projections, 0 past a segment's own number of points,
        which entries are points, and each segment's number of points (S is the most any segment may get).
    """
    device = pafs.device
    if samples is None:
        counts = torch.sqrt(5.0 * (b - a).abs().amax(dim=1)).round().clamp(5, 25)
        most = 25
    else:
        counts = torch.full((len(a),), float(samples), device=a.device)
        most = samples
    grid = MapGrid(stride)
    a, b = grid.to_cells(a), grid.to_cells(b)
    vec = b - a
    unit = vec / vec.norm(dim=1).clamp(min=1e-3).unsqueeze(1)
    steps = torch.arange(most, device=device, dtype=torch.float32)
    t = steps / (counts - 1).clamp(min=1).unsqueeze(1)  # (P, S)
    valid = steps.unsqueeze(0) < counts.unsqueeze(1)
    mx = a[:, 0:1] + t * vec[:, 0:1]
    my = a[:, 1:2] + t * vec[:, 1:2]
    ch_x = torch.tensor(skeleton.paf_x_channels, device=device)[limb].unsqueeze(1).expand_as(mx)
    ch_y = torch.tensor(skeleton.paf_y_channels, device=device)[limb].unsqueeze(1).expand_as(mx)
    maps = torch.nan_to_num(pafs.float(), nan=0.0, posinf=0.0, neginf=0.0)
    dots = sample_bilinear(maps, ch_x, mx, my) * unit[:, 0:1] + sample_bilinear(maps, ch_y, mx, my) * unit[:, 1:2]
    return dots * valid, valid, counts


def _pair_indices(peaks: Peaks, skeleton: Skeleton) -> tuple[np.ndarray, ...]:
    """Per pair: limb, global peak index of A and of B, and their local (within-part) positions; padded sizes."""
    counts = np.bincount(peaks.part.cpu().numpy(), minlength=skeleton.num_keypoints)
    starts = np.cumsum(counts) - counts
    limbs, ga, gb, la, lb = [], [], [], [], []
    for li, limb in enumerate(skeleton.limbs):
        na, nb = counts[limb.a], counts[limb.b]
        if na == 0 or nb == 0:
            continue
        ia, ib = np.meshgrid(np.arange(na), np.arange(nb), indexing="ij")
        limbs.append(np.full(na * nb, li))
        la.append(ia.ravel())
        lb.append(ib.ravel())
        ga.append(starts[limb.a] + ia.ravel())
        gb.append(starts[limb.b] + ib.ravel())
    max_a = max((counts[lb_.a] for lb_ in skeleton.limbs), default=0)
    max_b = max((counts[lb_.b] for lb_ in skeleton.limbs), default=0)
    if not limbs:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty, empty, counts, starts, max_a, max_b
    cat = np.concatenate
    return cat(limbs), cat(ga), cat(gb), cat(la), cat(lb), counts, starts, max_a, max_b


def score_limbs(peaks: Peaks, pafs: Tensor, stride: float, skeleton: Skeleton, scoring: LimbScoring,
                image_height: float) -> LimbCandidates:
    """Score all candidate pairs of all limbs by the PAF line integral.

    Args:
        peaks: the image's peaks (input pixels).
        pafs: (2L, h, w) at ``stride`` input pixels per cell.
        image_height: of the resized image content (input pixels), for the CVPR'17 length prior.
    """
    device = pafs.device
    limb_np, ga_np, gb_np, la_np, lb_np, counts, starts, max_a, max_b = _pair_indices(peaks, skeleton)
    num_limbs = skeleton.num_limbs
    scores = torch.full((num_limbs, max_a, max_b), float("-inf"), device=device)
    index_a = torch.full((num_limbs, max_a), -1, dtype=torch.long, device=device)
    index_b = torch.full((num_limbs, max_b), -1, dtype=torch.long, device=device)
    for li, limb in enumerate(skeleton.limbs):
        na, nb = counts[limb.a], counts[limb.b]
        index_a[li, :na] = torch.arange(starts[limb.a], starts[limb.a] + na, device=device)
        index_b[li, :nb] = torch.arange(starts[limb.b], starts[limb.b] + nb, device=device)
    if len(limb_np) == 0:
        return LimbCandidates(scores, index_a, index_b)

    limb_t = torch.from_numpy(limb_np).to(device)
    pa = peaks.xy[torch.from_numpy(ga_np).to(device)]
    pb = peaks.xy[torch.from_numpy(gb_np).to(device)]
    length = (pb - pa).norm(dim=1)
    dots, valid, n = paf_projections(pafs, skeleton, limb_t, pa, pb, stride, scoring.samples)
    passing = (dots > scoring.threshold) & valid
    n_pass = passing.sum(dim=1).float()
    if scoring.inliers_only:
        score = (dots * passing).sum(dim=1) / n_pass.clamp(min=1)
    else:
        score = dots.sum(dim=1) / n
    accept = n_pass > scoring.min_inlier_ratio * n
    if scoring.distance_prior:
        score = score + torch.clamp(0.5 * image_height / length.clamp(min=1e-3) - 1.0, max=0.0)
        accept &= score > 0
    if scoring.short_limb is not None:
        short = length < scoring.short_limb
        score = torch.where(short & ~accept, torch.full_like(score, scoring.threshold), score)
        accept |= short
    flat_index = (limb_t * max_a + torch.from_numpy(la_np).to(device)) * max_b + torch.from_numpy(lb_np).to(device)
    scores.view(-1)[flat_index] = torch.where(accept, score, torch.full_like(score, float("-inf")))
    return LimbCandidates(scores, index_a, index_b)


def match_limbs(candidates: LimbCandidates, method: str = "greedy") -> Tensor:
    """One-to-one matching of each limb's candidate pairs.

    ``greedy`` accepts pairs in descending score order when neither end is taken (OpenPose). It is computed for all
    limbs at once as rounds of mutually-best pairs, which selects exactly the greedy set when scores are distinct.
    ``optimal`` maximises each limb's total score (Hungarian algorithm).

    Returns:
        (C, 4) float tensor of connections: limb, peak A, peak B, score; grouped by limb, best first within a limb.
    """
    scores = candidates.scores
    num_limbs, max_a, max_b = scores.shape
    if max_a == 0 or max_b == 0:
        return scores.new_zeros((0, 4))
    if method == "greedy":
        chosen = _greedy(scores)
    elif method == "optimal":
        chosen = _optimal(scores)
    else:
        raise ValueError(f"unknown matching method {method!r}")
    limb, ia, ib = chosen.nonzero(as_tuple=True)
    s = scores[limb, ia, ib]
    out = torch.stack((limb.float(), candidates.index_a[limb, ia].float(), candidates.index_b[limb, ib].float(), s),
                      dim=1)
    by_score = torch.argsort(s, descending=True, stable=True)
    order = by_score[torch.argsort(limb[by_score], stable=True)]
    return out[order]


def _greedy(scores: Tensor) -> Tensor:
    work = scores.clone()
    chosen = torch.zeros_like(scores, dtype=torch.bool)
    rows = torch.arange(scores.shape[1], device=scores.device)
    neg_inf = torch.tensor(float("-inf"), device=scores.device)
    while True:
        row_best, row_arg = work.max(dim=2)  # (L, A)
        col_arg = work.argmax(dim=1)  # (L, B)
        mutual = (col_arg.gather(1, row_arg) == rows) & torch.isfinite(row_best)  # (L, A)
        if not bool(mutual.any()):
            return chosen
        li, ai = mutual.nonzero(as_tuple=True)
        bi = row_arg[li, ai]
        chosen[li, ai, bi] = True
        work[li, ai, :] = neg_inf
        work[li, :, bi] = neg_inf


def _optimal(scores: Tensor) -> Tensor:
    return torch.from_numpy(optimal_choice(scores.detach().cpu().numpy())).to(scores.device)


def optimal_choice(scores: np.ndarray) -> np.ndarray:
    """(L, A, B) bool: each limb's assignment of largest total score among its finite pairs (Hungarian algorithm)."""
    from scipy.optimize import linear_sum_assignment  # only this preset needs scipy; it costs 0.5 s to import

    chosen = np.zeros(scores.shape, bool)
    for li in range(scores.shape[0]):
        finite = np.isfinite(scores[li])
        if not finite.any():
            continue
        cost = np.where(finite, -scores[li], 1e9)
        r, c = linear_sum_assignment(cost)
        ok = finite[r, c]
        chosen[li, r[ok], c[ok]] = True
    return chosen
