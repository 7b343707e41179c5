"""Per-channel loss masks for the parts nobody labelled on an annotated person.

COCO labels some keypoints of a person and leaves others out (``v = 0``: out of frame, or too uncertain to click).
The targets then say "nothing here" for those parts although the person, and often the part, is in the crop. These
masks remove that claim: around each annotated person (the box of its labelled keypoints, widened by ``margin``
times its larger side on every edge), the heatmap channel of every keypoint it lacks, the background channel, and
the two PAF channels of every limb with a missing end weigh nothing in the loss. Everything else keeps the image
mask's weight. (What it changed when fine-tuning, measured in docs/finetuning.md: alone, nothing the held-out sets
resolve, as the freed channels drift upward; beside a weak distillation term, less held-out loss.)
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..grid import MapGrid
from ..skeleton import Skeleton

__all__ = ["unlabelled_part_masks"]


def unlabelled_part_masks(keypoints: Tensor, skeleton: Skeleton, map_size: tuple[int, int], stride: int = 8,
                          margin: float = 0.5) -> tuple[Tensor, Tensor]:
    """(heatmap mask (B, K+1, h, w), PAF mask (B, 2L, h, w)): 0 where a part is unlabelled near its person, else 1.

    Args:
        keypoints: (B, P, K, 3) x, y, visibility in input pixels; rows without any labelled keypoint (padding) are
            ignored.
        map_size: (h, w) of the maps.
        margin: how far the region reaches beyond the labelled keypoints' box, in units of the box's larger side.
    """
    kp = keypoints.float()
    b, _, k, _ = kp.shape
    if k + 1 != skeleton.num_heatmaps:
        raise ValueError(f"{k} keypoints do not fit the skeleton's {skeleton.num_heatmaps} heatmaps")
    h, w = map_size
    grid = MapGrid(stride)
    labelled = kp[..., 2] > 0  # (B, P, K)
    people = labelled.any(-1)  # (B, P)
    big = torch.finfo(kp.dtype).max
    xy = grid.to_cells(kp[..., :2])  # (B, P, K, 2) in cells
    lo = torch.where(labelled[..., None], xy, big).amin(2)  # (B, P, 2)
    hi = torch.where(labelled[..., None], xy, -big).amax(2)
    reach = margin * (hi - lo).amax(-1, keepdim=True).clamp_min(1.0)  # at least `margin` cells
    lo, hi = lo - reach, hi + reach
    ys = torch.arange(h, device=kp.device, dtype=kp.dtype)
    xs = torch.arange(w, device=kp.device, dtype=kp.dtype)
    inside_y = (ys >= lo[..., 1, None]) & (ys <= hi[..., 1, None])  # (B, P, h)
    inside_x = (xs >= lo[..., 0, None]) & (xs <= hi[..., 0, None])  # (B, P, w)
    region = (inside_y[..., :, None] & inside_x[..., None, :]) & people[..., None, None]  # (B, P, h, w)

    missing = ~labelled & people[..., None]  # (B, P, K)
    # heatmaps: each missing keypoint's channel; the background channel wherever any part is missing
    channels = torch.cat([missing, missing.any(-1, keepdim=True)], dim=-1).float()  # (B, P, K+1)
    hidden = torch.einsum("bpc,bphw->bchw", channels, region.float()) > 0
    heatmap_mask = (~hidden).float()

    a = torch.tensor(skeleton.limb_a, device=kp.device)
    bb = torch.tensor(skeleton.limb_b, device=kp.device)
    broken = (missing[..., a] | missing[..., bb]).float()  # (B, P, L)
    limb_hidden = torch.einsum("bpl,bphw->blhw", broken, region.float()) > 0  # (B, L, h, w)
    paf_mask = torch.ones((b, skeleton.num_pafs, h, w), device=kp.device)
    for channels_of_limbs in (skeleton.paf_x_channels, skeleton.paf_y_channels):
        paf_mask[:, torch.tensor(channels_of_limbs, device=kp.device)] = (~limb_hidden).float()
    return heatmap_mask, paf_mask
