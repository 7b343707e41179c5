"""The map grid: where a cell of a stride-``s`` network map sits on the network input, in both directions.

Pixel-centre convention everywhere: pixel ``i`` covers ``[i - 0.5, i + 0.5)``, so cell ``j`` of a map at stride ``s``
covers input pixels ``[s j - 0.5, s (j + 1) - 0.5)`` and is centred on input pixel ``s j + (s - 1) / 2`` (``8 j + 3.5``
at stride 8). The encoders place targets with it, the decoder maps peaks back and samples PAFs with it, and
inference resamples maps onto image pixels with it: one rule, written once.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["MapGrid"]


@dataclass(frozen=True, slots=True)
class MapGrid:
    """A map whose cells are ``stride`` input pixels wide (``stride`` may be fractional: an upsampled map)."""

    stride: float

    @property
    def offset(self) -> float:
        """Input-pixel coordinate of cell 0's centre."""
        return (self.stride - 1) / 2.0

    def to_input(self, cells: Tensor | float) -> Tensor | float:
        """Cell coordinates (any shape, fractional allowed) -> input-pixel coordinates."""
        return cells * self.stride + self.offset

    def to_cells(self, pixels: Tensor | float) -> Tensor | float:
        """Input-pixel coordinates -> cell coordinates (inverse of :meth:`to_input`)."""
        return (pixels - self.offset) / self.stride

    def centres(self, n: int, device: torch.device | None = None) -> Tensor:
        """(n,) input-pixel coordinates of the centres of ``n`` cells."""
        return self.to_input(torch.arange(n, device=device, dtype=torch.float32))

    def to_unit(self, pixels: Tensor, n: int) -> Tensor:
        """Input pixels -> ``grid_sample``'s normalised coordinates over ``n`` cells (``align_corners=False``)."""
        return (self.to_cells(pixels) + 0.5) / n * 2 - 1
