"""Heatmap peaks: optional upsampling and blur, max-pool non-maximum suppression, sub-pixel refinement."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ..grid import MapGrid

__all__ = ["Peaks", "find_peaks", "gaussian_blur"]


class Peaks(NamedTuple):
    """All peaks of all keypoint channels of one image.

    part: (M,) keypoint index; xy: (M, 2) input-pixel coordinates; score: (M,) heatmap value. Sorted by part.
    """

    part: Tensor
    xy: Tensor
    score: Tensor


def gaussian_blur(maps: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of (C, H, W) maps, truncated at 4 sigma, edges replicated."""
    radius = max(1, int(math.ceil(4 * sigma)))
    t = torch.arange(-radius, radius + 1, device=maps.device, dtype=maps.dtype)
    kernel = torch.exp(-(t**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    c = maps.shape[0]
    x = maps.unsqueeze(0)
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1),
                 groups=c)
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1),
                 groups=c)
    return x.squeeze(0)


def _local_maxima(maps: Tensor, threshold: float, neighbourhood: int) -> tuple[Tensor, Tensor, Tensor]:
    """(part, y, x) of the cells above ``threshold`` that are >= every 4- or 8-connected neighbour.

    Only the cells above the threshold (a small fraction of the map) are compared with their neighbours, which is several
    times cheaper than a dense max-pool. Plateaus keep all their cells.
    """
    c, h, w = maps.shape
    part, y, x = (maps > threshold).nonzero(as_tuple=True)
    padded = F.pad(maps.unsqueeze(0), (1, 1, 1, 1), value=float("-inf")).squeeze(0).reshape(-1)
    offsets = ((-1, 0), (1, 0), (0, -1), (0, 1))
    if neighbourhood == 8:
        offsets += ((-1, -1), (-1, 1), (1, -1), (1, 1))
    centre_index = (part * (h + 2) + y + 1) * (w + 2) + x + 1
    centre = padded[centre_index]
    keep = torch.ones_like(centre, dtype=torch.bool)
    for dy, dx in offsets:
        keep &= centre >= padded[centre_index + dy * (w + 2) + dx]
    return part[keep], y[keep], x[keep]


def _refine(maps: Tensor, part: Tensor, y: Tensor, x: Tensor, radius: int) -> tuple[Tensor, Tensor]:
    """Score-weighted centroid of each peak's (2r+1)^2 window (values clipped at 0), in map cells."""
    _, h, w = maps.shape
    offs = torch.arange(-radius, radius + 1, device=maps.device)
    wy = (y[:, None] + offs).clamp(0, h - 1)  # (M, S)
    wx = (x[:, None] + offs).clamp(0, w - 1)
    vals = maps[part[:, None, None], wy[:, :, None], wx[:, None, :]].clamp(min=0)  # (M, S, S)
    inside_y = ((y[:, None] + offs) >= 0) & ((y[:, None] + offs) < h)
    inside_x = ((x[:, None] + offs) >= 0) & ((x[:, None] + offs) < w)
    vals = vals * (inside_y[:, :, None] & inside_x[:, None, :])
    total = vals.sum(dim=(1, 2)).clamp(min=1e-12)
    fy = (vals.sum(dim=2) * wy).sum(dim=1) / total
    fx = (vals.sum(dim=1) * wx).sum(dim=1) / total
    return fx, fy


def _quadratic(maps: Tensor, part: Tensor, y: Tensor, x: Tensor, log: bool) -> tuple[Tensor, Tensor]:
    """Sub-cell position of each peak from a separable parabola through the peak and its two neighbours.

    With ``log`` the parabola is fitted to the logarithm of the values, which is exact for a Gaussian peak (what
    the networks are trained to output), even when it is narrower than a cell.
    """
    _, h, w = maps.shape
    c = maps[part, y, x]
    left = maps[part, y, (x - 1).clamp(min=0)]
    right = maps[part, y, (x + 1).clamp(max=w - 1)]
    up = maps[part, (y - 1).clamp(min=0), x]
    down = maps[part, (y + 1).clamp(max=h - 1), x]
    if log:
        floor = torch.tensor(1e-4, device=maps.device)
        c, left, right, up, down = (torch.log(torch.maximum(v, floor)) for v in (c, left, right, up, down))

    def offset(lo: Tensor, hi: Tensor) -> Tensor:
        curv = lo - 2 * c + hi
        off = torch.where(curv < -1e-9, 0.5 * (lo - hi) / curv.clamp(max=-1e-9), torch.zeros_like(c))
        return off.clamp(-0.5, 0.5)

    return x.float() + offset(left, right), y.float() + offset(up, down)


def find_peaks(
    heatmaps: Tensor,
    stride: float,
    threshold: float,
    *,
    upsample: int = 1,
    blur_sigma: float = 0.0,
    neighbourhood: int = 8,
    refine: str = "none",
    refine_radius: int = 3,
    max_peaks: int | None = None,
) -> Peaks:
    """Find the local maxima of keypoint heatmaps.

    Args:
        heatmaps: (K, h, w) keypoint channels (no background) at ``stride`` input pixels per cell.
        threshold: minimum heatmap value of a peak.
        upsample: bicubic upsampling factor applied first (the reference decoders work at input resolution).
        blur_sigma: Gaussian blur (in upsampled pixels) before the maximum test (CVPR'17 demo: 3); scores are read
            from the unblurred map.
        neighbourhood: 4 or 8 (which neighbours a peak must be >= to).
        refine: ``"none"``, ``"centroid"`` (score-weighted centroid in a (2r+1)^2 window, as OpenPose C++),
            ``"quadratic"`` (parabola through the neighbours) or ``"gaussian"`` (parabola through their logarithms).
        max_peaks: keep at most this many per part (highest scores).

    Returns:
        :class:`Peaks` in input-pixel coordinates.
    """
    maps = torch.nan_to_num(heatmaps.float(), nan=0.0, posinf=0.0, neginf=0.0)
    cell = float(stride)
    if upsample > 1:
        maps = F.interpolate(maps.unsqueeze(0), scale_factor=upsample, mode="bicubic", align_corners=False).squeeze(0)
        cell = stride / upsample
    test = gaussian_blur(maps, blur_sigma) if blur_sigma > 0 else maps
    part, y, x = _local_maxima(test, threshold, neighbourhood)
    score = maps[part, y, x]
    if max_peaks is not None and len(part):
        keep = _top_per_part(part, score, maps.shape[0], max_peaks)
        part, y, x, score = part[keep], y[keep], x[keep], score[keep]
    if refine == "centroid":
        fx, fy = _refine(maps, part, y, x, refine_radius)
    elif refine in ("quadratic", "gaussian"):
        fx, fy = _quadratic(maps, part, y, x, log=refine == "gaussian")
    elif refine == "none":
        fx, fy = x.float(), y.float()
    else:
        raise ValueError(f"unknown peak refinement {refine!r}")
    grid = MapGrid(cell)  # map cells (or upsampled pixels) -> input pixels
    xy = torch.stack((grid.to_input(fx), grid.to_input(fy)), dim=1)
    return Peaks(part, xy, score)


def _top_per_part(part: Tensor, score: Tensor, num_parts: int, k: int) -> Tensor:
    """Indices (sorted by part) of the ``k`` best-scoring peaks of each part."""
    order = torch.argsort(score, descending=True, stable=True)
    order = order[torch.argsort(part[order], stable=True)]
    counts = torch.bincount(part, minlength=num_parts)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(len(part), device=part.device) - starts[part[order]]
    return order[rank < k].sort().values
