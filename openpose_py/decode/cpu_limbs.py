"""Limb scoring and matching on the CPU with NumPy: :func:`~openpose_py.decode.limbs.score_limbs` and
:func:`~openpose_py.decode.limbs.match_limbs` for arrays, in a few operations over all limbs at once (no per-limb
loop), which on the few hundred candidate pairs of a photo costs far less than the same steps as torch operations.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import Skeleton
from .limbs import LimbScoring, optimal_choice

__all__ = ["score_limbs_numpy", "match_limbs_numpy", "sample_bilinear_numpy"]


_TABLES: dict[int, tuple] = {}


def _limb_tables(skeleton: Skeleton) -> tuple[np.ndarray, ...]:
    """A end, B end, PAF x channel and PAF y channel of every limb (kept per skeleton object: hashing a Skeleton
    would cost more than building them)."""
    held = _TABLES.get(id(skeleton))
    if held is None or held[0] is not skeleton:
        held = _TABLES[id(skeleton)] = (skeleton, *(np.array(v, np.intp) for v in (
            skeleton.limb_a, skeleton.limb_b, skeleton.paf_x_channels, skeleton.paf_y_channels)))
    return held[1:]


def sample_bilinear_numpy(flat: np.ndarray, h: int, w: int, channel: np.ndarray, x: np.ndarray,
                          y: np.ndarray) -> np.ndarray:
    """Bilinear values of the (C, h, w) maps ``flat`` (raveled) at map coordinates (x, y) in the given channels;
    non-finite map values count as 0 (as :func:`~openpose_py.decode.limbs.sample_bilinear` after ``nan_to_num``)."""
    x = np.minimum(np.maximum(x, 0), w - 1)
    y = np.minimum(np.maximum(y, 0), h - 1)
    x0 = np.minimum(np.floor(x), w - 2 if w > 1 else 0)  # so that x0 + 1 is on the map (but for one column)
    y0 = np.minimum(np.floor(y), h - 2 if h > 1 else 0)
    fx, fy = x - x0, y - y0
    i00 = channel * (h * w) + (y0.astype(np.intp) * w + x0.astype(np.intp))
    right, down = int(w > 1), w * int(h > 1)
    v = flat[np.stack((i00, i00 + right, i00 + down, i00 + (down + right)))]
    if not np.isfinite(v).all():
        v = np.nan_to_num(v, nan=0.0, posinf=0.0, neginf=0.0)
    v00, v01, v10, v11 = v
    return (v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy


def _pairs(part: np.ndarray, skeleton: Skeleton) -> tuple[np.ndarray, ...]:
    """Every (A peak, B peak) pair of every limb: limb, local A and B positions, global A and B peak indices (limb
    by limb, A-major, as nested loops would list them); and the (L, max A) / (L, max B) global index tables."""
    limb_a, limb_b, _, _ = _limb_tables(skeleton)
    counts = np.bincount(part, minlength=skeleton.num_keypoints)
    starts = np.cumsum(counts) - counts
    na, nb = counts[limb_a], counts[limb_b]
    sizes = na * nb
    limb = np.repeat(np.arange(len(limb_a)), sizes)
    within = np.arange(len(limb)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    la, lb = np.divmod(within, nb[limb])
    cols_a, cols_b = np.arange(na.max()), np.arange(nb.max())
    index_a = np.where(cols_a < na[:, None], starts[limb_a][:, None] + cols_a, -1)
    index_b = np.where(cols_b < nb[:, None], starts[limb_b][:, None] + cols_b, -1)
    return limb, la, lb, starts[limb_a][limb] + la, starts[limb_b][limb] + lb, index_a, index_b


def score_limbs_numpy(part: np.ndarray, xy: np.ndarray, pafs: np.ndarray, stride: float, skeleton: Skeleton,
                      scoring: LimbScoring, image_height: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~openpose_py.decode.limbs.score_limbs` for arrays: peaks' ``part`` (M,) and ``xy`` (M, 2) float32
    input pixels (sorted by part), ``pafs`` (2L, h, w) float32.

    Returns:
        scores (L, A, B) float32 with -inf where a pair is not acceptable, index_a (L, A), index_b (L, B).
    """
    limb, la, lb, ga, gb, index_a, index_b = _pairs(part, skeleton)
    scores = np.full((len(index_a), index_a.shape[1], index_b.shape[1]), -np.inf, np.float32)
    if len(limb) == 0:
        return scores, index_a, index_b
    pa, pb = xy[ga], xy[gb]
    seg = pb - pa
    length = np.sqrt(seg[:, 0] * seg[:, 0] + seg[:, 1] * seg[:, 1])
    steps = np.arange(scoring.samples or 25, dtype=np.float32)
    if scoring.samples is None:
        longer = np.maximum(np.abs(seg[:, 0]), np.abs(seg[:, 1]))
        counts = np.minimum(np.maximum(np.round(np.sqrt(np.float32(5.0) * longer)), 5), 25)
        valid = steps < counts[:, None]
    else:
        counts = np.full(len(limb), scoring.samples, np.float32)
        valid = None  # every segment has all the samples
    offset = np.float32((stride - 1) / 2.0)
    a, b = (pa - offset) / np.float32(stride), (pb - offset) / np.float32(stride)  # input pixels -> map cells
    vec = b - a
    unit = vec / np.maximum(np.sqrt(vec[:, 0] * vec[:, 0] + vec[:, 1] * vec[:, 1]), np.float32(1e-3))[:, None]
    t = steps / np.maximum(counts - 1, 1)[:, None]  # (P, S)
    mx = a[:, 0:1] + t * vec[:, 0:1]
    my = a[:, 1:2] + t * vec[:, 1:2]
    _, _, ch_x, ch_y = _limb_tables(skeleton)
    _, h, w = pafs.shape
    flat = pafs.reshape(-1)
    sampled = sample_bilinear_numpy(flat, h, w, np.stack((ch_x[limb], ch_y[limb]))[:, :, None], mx, my)
    dots = sampled[0] * unit[:, 0:1] + sampled[1] * unit[:, 1:2]
    passing = dots > scoring.threshold
    if valid is not None:  # past a segment's own count: not a sample
        dots *= valid
        passing &= valid
    n_pass = passing.sum(axis=1).astype(np.float32)
    if scoring.inliers_only:
        score = (dots * passing).sum(axis=1) / np.maximum(n_pass, 1)
    else:
        score = dots.sum(axis=1) / counts
    accept = n_pass > np.float32(scoring.min_inlier_ratio) * counts
    if scoring.distance_prior:
        score = score + np.minimum(np.float32(0.5 * image_height) / np.maximum(length, np.float32(1e-3)) - 1, 0)
        accept &= score > 0
    if scoring.short_limb is not None:
        short = length < scoring.short_limb
        score = np.where(short & ~accept, np.float32(scoring.threshold), score)
        accept |= short
    scores[limb, la, lb] = np.where(accept, score, -np.inf)
    return scores, index_a, index_b


def match_limbs_numpy(scores: np.ndarray, index_a: np.ndarray, index_b: np.ndarray,
                      method: str = "greedy") -> tuple[list[float], list[int], list[int], list[float]]:
    """:func:`~openpose_py.decode.limbs.match_limbs` for arrays: the connections as lists (limb, peak A, peak B,
    score), grouped by limb, best first within a limb."""
    if scores.shape[1] == 0 or scores.shape[2] == 0:
        return [], [], [], []
    choose = {"greedy": _greedy, "optimal": lambda s: np.nonzero(optimal_choice(s))}.get(method)
    if choose is None:
        raise ValueError(f"unknown matching method {method!r}")
    limb, ia, ib = choose(scores)
    s = scores[limb, ia, ib]
    order = np.lexsort((ib, ia, -s, limb))  # by limb, best first; ties in (limb, A, B) order, as torch's
    limb, ia, ib, s = limb[order], ia[order], ib[order], s[order]
    return limb.tolist(), index_a[limb, ia].tolist(), index_b[limb, ib].tolist(), s.tolist()


def _greedy(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rounds of mutually-best pairs (the greedy set when scores are distinct), as ``limbs._greedy``: the chosen
    pairs' limb, A and B positions."""
    work = scores.copy()
    limbs, rows = np.arange(len(scores))[:, None], np.arange(scores.shape[1])
    found = []
    while True:
        row_arg = work.argmax(axis=2)  # (L, A)
        li, ai = np.nonzero(work.argmax(axis=1)[limbs, row_arg] == rows)
        bi = row_arg[li, ai]
        finite = np.isfinite(work[li, ai, bi])
        if not finite.any():
            break
        li, ai, bi = li[finite], ai[finite], bi[finite]
        found.append((li, ai, bi))
        work[li, ai, :] = -np.inf
        work[li, :, bi] = -np.inf
    if not found:
        return np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0, np.intp)
    return tuple(np.concatenate(column) for column in zip(*found))
