"""The arithmetic cost of a network: multiply-accumulates (MACs) of one forward pass.

Counted by torch's own ``FlopCounterMode`` (convolutions and matrix products; it reports 2 FLOPs per MAC), on the
meta device when only the cost is wanted, so no weights are needed and nothing is computed. This is what sets the
floor under the network's time: ``MACs / seconds`` against the device's peak says how much of it a runtime uses.
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor, nn

__all__ = ["count_macs", "network_macs"]


def count_macs(model: nn.Module, x: Tensor) -> int:
    """MACs of ``model(x)`` for the whole batch (model and ``x`` may live on the meta device)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() // 2


@functools.lru_cache(maxsize=64)
def _macs(architecture: str, arch_kwargs: tuple[tuple[str, object], ...], shape: tuple[int, int, int, int]) -> int:
    from . import create

    with torch.device("meta"):
        model = create(architecture, **dict(arch_kwargs)).eval()
        x = torch.empty(shape)
    return count_macs(model, x)


def network_macs(architecture: str, height: int, width: int, *, batch: int = 1,
                 arch_kwargs: tuple[tuple[str, object], ...] = ()) -> int:
    """MACs of one forward pass of the registered network ``architecture`` on a (batch, 3, height, width) input,
    e.g. ``network_macs("cmu-coco", 368, 368)`` = 135.9 G; ``arch_kwargs`` as a weights entry stores them."""
    if height < 1 or width < 1 or batch < 1:
        raise ValueError(f"input must be at least 1x1 with batch >= 1, got {batch}x3x{height}x{width}")
    return _macs(architecture, tuple(arch_kwargs), (int(batch), 3, int(height), int(width)))
