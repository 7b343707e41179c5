"""Heatmap peaks on the CPU with NumPy, computing the bicubic upsampling only where a peak can be.

The same peaks as :func:`~openpose_py.decode.peaks.find_peaks` (torch's ``bicubic`` upsampling, ``align_corners=False``;
8- or 4-neighbour maxima above the threshold; the same refinements and per-part cap), without upsampling whole maps.
An upsampled pixel is a weighted sum of a 4x4 window of source cells. Split by sign, the weights bound it: at factor
2, positive weights of 1.31 on the cells within one cell of the pixel's own block cell and 0.009 on the others,
negative ones of 0.32 in all. So where every nearby cell is at most ``a``, every cell at most the maps' maximum ``g``
and at least ``-m``, the pixel is at most ``1.31 a + 0.009 g + 0.32 m``; only the blocks (the ``f x f`` upsampled
pixels of one source cell) within one cell of a cell above the ``a`` that makes this the threshold can hold a pixel
above it (:func:`_strong_cells`, with looser fallbacks for strongly negative maps). Those blocks are computed from
their 5x5 source patches (two small matrix products). A pixel of any other block is at most the threshold, so it can
neither be a peak nor beat one: the neighbour test reads it as -inf. The refinements read the few values they need
outside the blocks from the source patches. On the default network's maps of the 24 dev photos (height 368) this
computes 0.6% of the upsampled pixels.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

__all__ = ["find_peaks_numpy", "cubic_block_weights"]

_A = -0.75  # torch's (and OpenCV's) bicubic coefficient
# (dy, dx) of a pixel and its neighbours: the pixel, left, up, right, down (4), then the diagonals (8)
_NEIGHBOURS = {4: ((0, 0), (0, -1), (-1, 0), (0, 1), (1, 0))}
_NEIGHBOURS[8] = _NEIGHBOURS[4] + ((-1, -1), (-1, 1), (1, -1), (1, 1))
_OFFSETS = {n: np.array(pairs).T for n, pairs in _NEIGHBOURS.items()}  # (dy row, dx row)
_NO_CELL = np.iinfo(np.intp).max


def _cubic_weights(t: np.ndarray) -> np.ndarray:
    """(n, 4) weights of the taps at floor - 1 .. floor + 2 for fractional positions ``t`` (torch's formulas)."""
    t = t.astype(np.float32)
    a = np.float32(_A)

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return np.stack((far(t + 1), near(t), near(1 - t), far(2 - t)), axis=1).astype(np.float32)


@lru_cache(maxsize=16)
def cubic_block_weights(factor: int) -> np.ndarray:
    """The (f, 5) weights that turn a source cell's 5-cell neighbourhood (cells -2..2) into its ``f`` upsampled
    pixels along one axis."""
    scale = np.float32(1.0 / factor)
    real = scale * (np.arange(factor, dtype=np.float32) + np.float32(0.5)) - np.float32(0.5)  # offset from the cell
    floor = np.floor(real)
    taps = _cubic_weights(real - floor)
    weights = np.zeros((factor, 5), np.float32)
    for j in range(factor):
        start = int(floor[j]) + 1  # tap floor - 1 sits at column floor - 1 + 2
        weights[j, start:start + 4] = taps[j]
    return weights


def _window(part: np.ndarray, y: np.ndarray, x: np.ndarray, h: int, w: int, radius: int) -> np.ndarray:
    """(..., 2r+1, 2r+1) flat indices into (K, h, w) maps of the cells around (part, y, x), clamped to the map."""
    offsets = np.arange(-radius, radius + 1)
    rows = np.minimum(np.maximum(y[..., None] + offsets, 0), h - 1)
    cols = np.minimum(np.maximum(x[..., None] + offsets, 0), w - 1)
    return ((part * h)[..., None] + rows)[..., :, None] * w + cols[..., None, :]


class _Blocks(NamedTuple):
    """Upsampled values of the blocks of some source cells (block ``n``: the ``f x f`` upsampled pixels of source
    cell ``part[n], y[n], x[n]``), and the source maps for values anywhere else."""

    values: np.ndarray  # (N + 1, f, f), the last block -inf
    cells: np.ndarray  # (N + 1,) ascending index of each block's cell in the maps padded by 2, then a sentinel
    part: np.ndarray
    y: np.ndarray
    x: np.ndarray
    maps: np.ndarray  # (K, h, w)
    weights: np.ndarray  # (f, 5), from cubic_block_weights

    def computed(self, part: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Values at upsampled pixels from the computed blocks; -inf elsewhere (at most the threshold), including
        up to ``2 f`` pixels outside the map."""
        f = len(self.weights)
        _, h, w = self.maps.shape
        cell = (part * (h + 4) + y // f + 2) * (w + 4) + x // f + 2
        block = np.searchsorted(self.cells, cell)
        block = np.where(self.cells[block] == cell, block, len(self.cells) - 1)
        return self.values.reshape(-1)[block * (f * f) + (y % f) * f + x % f]

    def at(self, part: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Upsampled values at any upsampled pixels (in range): from the computed blocks, and where a pixel's block
        was not computed (rare: a refinement window reaching past the blocks), from its 5x5 source patch."""
        values = self.computed(part, y, x)
        missing = np.isneginf(values)
        if missing.any():
            part, y, x = (np.broadcast_to(v, values.shape)[missing] for v in (part, y, x))
            f = len(self.weights)
            _, h, w = self.maps.shape
            patch = self.maps.reshape(-1)[_window(part, y // f, x // f, h, w, 2)]
            across = (patch * self.weights[x % f][:, None, :]).sum(axis=-1)  # each row first, as torch
            values[missing] = (across * self.weights[y % f]).sum(axis=-1)
        return values

    def above(self, threshold: float, neighbourhood: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(part, y, x) of the computed upsampled pixels above ``threshold`` (the candidates for a peak), in no
        particular order. At factor 2 with 8 neighbours, only each block's largest: the others neighbour it."""
        f = len(self.weights)
        v = self.values[:-1].reshape(-1, f * f)
        ok = v > threshold
        if f == 2 and neighbourhood == 8:  # (NumPy's max along a short axis is slow)
            ok &= v >= np.maximum(np.maximum(v[:, 0], v[:, 1]), np.maximum(v[:, 2], v[:, 3]))[:, None]
        block, within = np.divmod(np.flatnonzero(ok), f * f)
        j, i = np.divmod(within, f)
        return self.part[block], self.y[block] * f + j, self.x[block] * f + i


@lru_cache(maxsize=16)
def _weight_masses(factor: int) -> tuple[np.ndarray, ...]:
    """Per upsampled pixel of a block (f^2 of them): the summed positive weights on the source cells within one cell
    of the block's own and on the others, and the summed sizes of the negative weights."""
    weights = cubic_block_weights(factor)
    both = weights[:, None, :, None] * weights[None, :, None, :]  # (f, f, 5, 5): pixel (j, i), cell (dy, dx)
    positive, negative = np.maximum(both, 0).reshape(factor * factor, 25), np.maximum(-both, 0)
    inner = np.zeros((5, 5), bool)
    inner[1:4, 1:4] = True
    inner = inner.ravel()
    return positive[:, inner].sum(1), positive[:, ~inner].sum(1), negative.reshape(factor * factor, 25).sum(1)


def _strong_cells(maps: np.ndarray, factor: int, threshold: float, low: float, high: float) -> tuple[np.ndarray, int]:
    """The cells near which an upsampled pixel can exceed ``threshold``, and how near (in cells).

    A pixel is a sum of source cells times weights (``_weight_masses``). With ``m = max(0, -low)`` and
    ``g = max(0, high)``, a pixel whose cells within one cell of its block's cell are all at most ``a``, and all
    its other cells at most ``g``, is at most ``a P1 + g P2 + m Q``: cells above ``a = (threshold - g P2 - m Q) / P1``
    are strong (radius 1). Where that ``a`` is not positive: ``a = (threshold - m Q) / (P1 + P2)`` with radius 2; for
    maps so negative that ``m Q`` reaches the threshold, ``|value| > threshold / (P1 + P2 + Q)``, radius 2."""
    inner, outer, negative = _weight_masses(factor)
    m, g = max(0.0, -float(low)), max(0.0, float(high))
    room = threshold - g * outer - m * negative
    if (room > 0).all():
        return maps > float((room / inner).min()) * (1 - 1e-4), 1
    room = threshold - m * negative
    if (room > 0).all():
        return maps > float((room / (inner + outer)).min()) * (1 - 1e-4), 2
    return np.abs(maps) > threshold / float((inner + outer + negative).max()) * (1 - 1e-4), 2


def _upsampled_blocks(maps: np.ndarray, factor: int, threshold: float, low: float, high: float) -> _Blocks | None:
    """The blocks that can hold an upsampled pixel above ``threshold`` (``low``, ``high``: the maps' extremes)."""
    k, h, w = maps.shape
    weights = cubic_block_weights(factor)
    strong, radius = _strong_cells(maps, factor, threshold, low, high)
    if not strong.any():
        return None
    py, sx = np.divmod(np.flatnonzero(strong), w)
    sp, sy = np.divmod(py, h)
    near = np.zeros(k * h * w, bool)
    near[_window(sp, sy, sx, h, w, radius)] = True
    py, x = np.divmod(np.flatnonzero(near), w)
    part, y = np.divmod(py, h)
    n = len(part)
    cells = np.empty(n + 1, np.intp)
    cells[:n] = (part * (h + 4) + y + 2) * (w + 4) + x + 2
    cells[n] = _NO_CELL
    patches = maps.reshape(-1)[_window(part, y, x, h, w, 2)].reshape(n * 5, 5)
    across = (patches @ weights.T).reshape(n, 5, factor)  # each row first, as torch
    values = np.empty((n + 1, factor, factor), np.float32)
    values[:n] = (across.transpose(0, 2, 1).reshape(n * factor, 5) @ weights.T).reshape(n, factor, factor) \
        .transpose(0, 2, 1)
    values[n] = -np.inf
    return _Blocks(values, cells, part, y, x, maps, weights)


class _Dense(NamedTuple):
    """No upsampling: the maps themselves, padded with -inf, with the same lookups as :class:`_Blocks`."""

    padded: np.ndarray  # (K, h + 2, w + 2)

    @classmethod
    def of(cls, maps: np.ndarray) -> "_Dense":
        k, h, w = maps.shape
        padded = np.full((k, h + 2, w + 2), -np.inf, np.float32)
        padded[:, 1:-1, 1:-1] = maps
        return cls(padded)

    def at(self, part: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Values at cells (one outside the map: -inf)."""
        _, hp, wp = self.padded.shape
        return self.padded.reshape(-1)[(part * hp + y + 1) * wp + x + 1]

    computed = at

    def above(self, threshold: float, neighbourhood: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        _, hp, wp = self.padded.shape
        py, x = np.divmod(np.flatnonzero(self.padded > threshold), wp)
        part, y = np.divmod(py, hp)
        return part, y - 1, x - 1


def find_peaks_numpy(maps: np.ndarray, stride: float, threshold: float, *, upsample: int = 1, neighbourhood: int = 8,
                     refine: str = "none", refine_radius: int = 3,
                     max_peaks: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~openpose_py.decode.peaks.find_peaks` (without blur) on float32 (K, h, w) maps (non-finite values
    count as 0).

    Returns:
        part (M,) int64, xy (M, 2) float32 input pixels, score (M,) float32; sorted by part, then row, then column.
    """
    k, h, w = maps.shape
    if refine not in ("none", "centroid", "quadratic", "gaussian"):
        raise ValueError(f"unknown peak refinement {refine!r}")
    low, high = (maps.min(), maps.max()) if maps.size else (0.0, 0.0)
    if not (np.isfinite(low) and np.isfinite(high)):  # NaN or infinity somewhere: count them as 0
        maps = np.nan_to_num(maps, nan=0.0, posinf=0.0, neginf=0.0)
        low, high = maps.min(), maps.max()
    if upsample == 1:
        source = _Dense.of(maps) if high > threshold else None
    else:
        source = _upsampled_blocks(maps, upsample, threshold, low, high)
    empty = np.zeros(0, np.int64), np.zeros((0, 2), np.float32), np.zeros(0, np.float32)
    if source is None:
        return empty
    part, y, x = source.above(threshold, neighbourhood)
    height, width = h * upsample, w * upsample
    dy, dx = _OFFSETS[neighbourhood]
    near = source.computed(part[:, None], y[:, None] + dy, x[:, None] + dx)  # (C, 1 + n); outside the map: -inf
    keep = np.flatnonzero((near[:, :1] >= near[:, 1:]).all(axis=1))
    keep = keep[np.argsort((part[keep] * height + y[keep]) * width + x[keep])]
    part, y, x, near = part[keep], y[keep], x[keep], near[keep]
    if max_peaks is not None and len(part) and np.bincount(part).max() > max_peaks:
        best = _top_per_part(part, near[:, 0], max_peaks)
        part, y, x, near = part[best], y[best], x[best], near[best]
    score = near[:, 0]
    if refine == "centroid":
        fx, fy = _centroid(source, part, y, x, refine_radius, height, width)
    elif refine in ("quadratic", "gaussian"):
        fx, fy = _quadratic(source, part, y, x, near[:, :5], refine == "gaussian", height, width)
    else:
        fx, fy = x.astype(np.float32), y.astype(np.float32)
    cell = np.float32(stride / upsample)
    offset = np.float32((stride / upsample - 1) / 2.0)
    xy = np.stack((fx * cell + offset, fy * cell + offset), axis=1)
    return part.astype(np.int64), xy, score


def _top_per_part(part: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """Indices (in their order) of the ``k`` best-scoring peaks of each part (ties: the earlier first)."""
    order = np.argsort(-score, kind="stable")
    order = order[np.argsort(part[order], kind="stable")]
    counts = np.bincount(part)
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(part)) - starts[part[order]]
    return np.sort(order[rank < k])


def _quadratic(source, part, y, x, v: np.ndarray, log: bool, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel offsets from a parabola through each peak and its two neighbours along each axis (or through
    their logarithms), clamped to half a pixel. ``v``: (M, 5) values of each peak, left, up, right, down, -inf where
    not known (outside the map, where the peak's own value is used as by torch, or outside the computed blocks)."""
    missing = np.isneginf(v)
    if missing.any():
        (dy, dx), (m, j) = _OFFSETS[4], np.nonzero(missing)
        v = v.copy()
        v[m, j] = source.at(part[m], np.minimum(np.maximum(y[m] + dy[j], 0), height - 1),
                            np.minimum(np.maximum(x[m] + dx[j], 0), width - 1))
    if log:
        v = np.log(np.maximum(v, np.float32(1e-4)))
    centre, lo, hi = v[:, :1], v[:, 1:3], v[:, 3:5]  # lo: left, up; hi: right, down
    curv = lo - 2 * centre + hi
    off = np.where(curv < -1e-9, np.float32(0.5) * (lo - hi) / np.minimum(curv, np.float32(-1e-9)), 0)
    off = np.minimum(np.maximum(off, np.float32(-0.5)), np.float32(0.5))
    return x.astype(np.float32) + off[:, 0], y.astype(np.float32) + off[:, 1]


def _centroid(source, part, y, x, radius: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Score-weighted centroid of each peak's (2r+1)^2 window, values clipped at 0, outside the map ignored."""
    offs = np.arange(-radius, radius + 1)
    wy, wx = y[:, None] + offs, x[:, None] + offs  # (M, S)
    inside = ((wy >= 0) & (wy < height))[:, :, None] & ((wx >= 0) & (wx < width))[:, None, :]
    wy, wx = np.clip(wy, 0, height - 1), np.clip(wx, 0, width - 1)
    vals = np.maximum(source.at(part[:, None, None], wy[:, :, None], wx[:, None, :]), 0) * inside
    wy, wx = wy.astype(np.float32), wx.astype(np.float32)
    total = np.maximum(vals.sum(axis=(1, 2)), np.float32(1e-12))
    fy = (vals.sum(axis=2) * wy).sum(axis=1) / total
    fx = (vals.sum(axis=1) * wx).sum(axis=1) / total
    return fx.astype(np.float32), fy.astype(np.float32)
