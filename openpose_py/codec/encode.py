"""Ground-truth encoders: keypoints -> heatmaps and Part Affinity Fields at the network's stride.

They are the training targets and, fed to the decoder as if they were network output, its test oracle.

Conventions: ``keypoints`` is a float tensor (..., P, K, 3) of x, y, visibility in input pixels (visibility > 0 means
the point is present; padded people are all zeros), ``map_size`` is the (h, w) of the stride-``stride`` map, whose cells
sit on the input as :class:`~openpose_py.grid.MapGrid` says.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..grid import MapGrid
from ..skeleton import Skeleton

__all__ = ["encode_heatmaps", "encode_pafs", "cell_centres", "GAUSSIAN_CUTOFF"]

#: Gaussian values below this are set to zero (the reference generator skips them).
GAUSSIAN_CUTOFF = 0.01


def cell_centres(n: int, stride: int, device: torch.device | None = None) -> Tensor:
    """(n,) input-pixel coordinates of the centres of ``n`` map cells."""
    return MapGrid(stride).centres(n, device)


def encode_heatmaps(keypoints: Tensor, map_size: tuple[int, int], stride: int = 8, sigma: float = 7.0) -> Tensor:
    """Gaussian keypoint heatmaps, maximum over people, plus a background channel.

    Args:
        keypoints: (..., P, K, 3) x, y, visibility in input pixels.
        map_size: (h, w) of the output maps.
        sigma: Gaussian standard deviation in input pixels.

    Returns:
        (..., K+1, h, w); channel K is ``max(0, 1 - max over parts)``.
    """
    h, w = map_size
    kp = keypoints.float()
    lead = kp.shape[:-3]
    num_k = kp.shape[-2]
    if kp.shape[-3] == 0:
        parts = kp.new_zeros((*lead, num_k, h, w))
    else:
        ys = cell_centres(h, stride, kp.device)
        xs = cell_centres(w, stride, kp.device)
        present = (kp[..., 2] > 0).float()  # (..., P, K)
        # The 2D Gaussian is separable: exp(-dx^2/2s^2) * exp(-dy^2/2s^2).
        gx = torch.exp(-((xs - kp[..., 0:1]) ** 2) / (2 * sigma**2))  # (..., P, K, w)
        gy = torch.exp(-((ys - kp[..., 1:2]) ** 2) / (2 * sigma**2))  # (..., P, K, h)
        gauss = gy.unsqueeze(-1) * gx.unsqueeze(-2) * present[..., None, None]  # (..., P, K, h, w)
        gauss = torch.where(gauss >= GAUSSIAN_CUTOFF, gauss, torch.zeros((), device=kp.device))
        parts = gauss.amax(dim=-4)
    background = (1.0 - parts.amax(dim=-3, keepdim=True)).clamp_(min=0.0)
    return torch.cat((parts, background), dim=-3)


def encode_pafs(keypoints: Tensor, skeleton: Skeleton, map_size: tuple[int, int], stride: int = 8,
                width: float = 1.0) -> Tensor:
    """Part Affinity Fields: unit vectors A->B on a band around each limb, averaged over overlapping people.

    A cell belongs to limb A->B of a person when its centre lies at most ``width`` cells from the line through A and B
    and projects onto the segment extended by half a cell at each end (without that slack, a limb shorter than a cell
    may cover no cell centre at all and could never be detected). Limbs with a missing end or of zero length
    contribute nothing.

    Args:
        keypoints: (..., P, K, 3) x, y, visibility in input pixels.
        map_size: (h, w) of the output maps.
        width: band half-width in map cells.

    Returns:
        (..., 2L, h, w) in the skeleton's PAF channel layout.
    """
    h, w = map_size
    kp = keypoints.float()
    lead = kp.shape[:-3]
    out = kp.new_zeros((*lead, skeleton.num_pafs, h, w))
    if kp.shape[-3] == 0:
        return out
    a_idx = torch.tensor(skeleton.limb_a, device=kp.device)
    b_idx = torch.tensor(skeleton.limb_b, device=kp.device)
    # Work in map-cell units so that the band width is in cells.
    pts = MapGrid(stride).to_cells(kp[..., :2])  # (..., P, K, 2)
    a = pts[..., a_idx, :]  # (..., P, L, 2)
    b = pts[..., b_idx, :]
    valid = (kp[..., a_idx, 2] > 0) & (kp[..., b_idx, 2] > 0)
    vec = b - a
    length = vec.norm(dim=-1)  # (..., P, L)
    valid = valid & (length > 1e-6)
    unit = vec / length.clamp(min=1e-6).unsqueeze(-1)
    ys = torch.arange(h, device=kp.device, dtype=torch.float32)
    xs = torch.arange(w, device=kp.device, dtype=torch.float32)
    dx = xs - a[..., 0:1]  # (..., P, L, w)
    dy = ys - a[..., 1:2]  # (..., P, L, h)
    ux, uy = unit[..., 0, None, None], unit[..., 1, None, None]
    along = dy.unsqueeze(-1) * uy + dx.unsqueeze(-2) * ux  # (..., P, L, h, w)
    across = (dy.unsqueeze(-1) * ux - dx.unsqueeze(-2) * uy).abs()
    inside = (along >= -0.5) & (along <= length[..., None, None] + 0.5) & (across <= width) & valid[..., None, None]
    inside_f = inside.float()
    count = inside_f.sum(dim=-4)  # (..., L, h, w)
    sum_x = (inside_f * ux).sum(dim=-4)
    sum_y = (inside_f * uy).sum(dim=-4)
    denom = count.clamp(min=1.0)
    x_ch = torch.tensor(skeleton.paf_x_channels, device=kp.device)
    y_ch = torch.tensor(skeleton.paf_y_channels, device=kp.device)
    out[..., x_ch, :, :] = sum_x / denom
    out[..., y_ch, :, :] = sum_y / denom
    return out

