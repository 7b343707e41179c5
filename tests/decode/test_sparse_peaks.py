import numpy as np
import pytest
import torch
import torch.nn.functional as F

from openpose_py.codec.encode import encode_heatmaps
from openpose_py.decode.peaks import find_peaks
from openpose_py.decode.sparse_peaks import _strong_cells, _upsampled_blocks, cubic_block_weights, find_peaks_numpy


def _maps(seed: int, people: int = 5, size=(23, 31), noise: float = 0.03) -> torch.Tensor:
    """Encoded peaks (some at the border, some close together) with noise, slightly negative in places."""
    rng = np.random.default_rng(seed)
    kp = np.zeros((people, 18, 3), np.float32)
    kp[..., 0] = rng.uniform(-4, size[1] * 8 + 4, (people, 18))
    kp[..., 1] = rng.uniform(-4, size[0] * 8 + 4, (people, 18))
    kp[..., 2] = rng.random((people, 18)) < 0.8
    hm = encode_heatmaps(torch.from_numpy(kp), size)[:18]
    return hm * 0.9 + torch.from_numpy(rng.normal(0, noise, hm.shape).astype(np.float32))


@pytest.mark.parametrize("upsample", [2, 3, 8])
def test_cubic_blocks_are_torch_bicubic(upsample):
    maps = torch.rand(2, 7, 9, generator=torch.Generator().manual_seed(upsample)) + 0.5  # every cell strong
    blocks = _upsampled_blocks(maps.numpy(), upsample, 0.1, float(maps.min()), float(maps.max()))
    dense = F.interpolate(maps[None], scale_factor=upsample, mode="bicubic", align_corners=False)[0].numpy()
    part, y, x = np.nonzero(np.ones_like(dense, bool))
    assert np.abs(blocks.computed(part, y, x) - dense[part, y, x]).max() < 1e-5  # (1/3 is not exact in float)
    assert np.allclose(cubic_block_weights(upsample).sum(axis=1), 1.0)


@pytest.mark.parametrize("lowest, radius", [(None, 1), (-0.3, 2), (-0.9, 2)])
def test_every_upsampled_pixel_above_the_threshold_is_computed(lowest, radius):
    # the three bounds: slightly negative maps (cells near strong ones), quite negative (two cells), very (|value|)
    maps = _maps(3, people=2, size=(30, 40), noise=0.01)
    maps[1, 12, 20] = 1.0
    if lowest is not None:
        maps[2, 15, 15] = lowest
    assert _strong_cells(maps.numpy(), 2, 0.1, float(maps.min()), float(maps.max()))[1] == radius
    dense = F.interpolate(maps[None], scale_factor=2, mode="bicubic", align_corners=False)[0].numpy()
    blocks = _upsampled_blocks(maps.numpy(), 2, 0.1, float(maps.min()), float(maps.max()))
    part, y, x = np.nonzero(dense > 0.1)
    assert len(part) > 50
    assert np.abs(blocks.computed(part, y, x) - dense[part, y, x]).max() < 1e-6
    if radius == 1:  # (the looser bounds of negative maps compute most blocks)
        assert len(blocks.part) < 0.3 * maps.numel()


@pytest.mark.parametrize("options", [
    dict(upsample=2, refine="quadratic"),
    dict(upsample=2, refine="gaussian", neighbourhood=4),
    dict(upsample=1, refine="none"),
    dict(upsample=1, refine="centroid", refine_radius=2),
    dict(upsample=3, refine="quadratic", max_peaks=2),
    dict(upsample=8, refine="centroid"),
    dict(upsample=2, refine="none", neighbourhood=4, threshold=0.05),
])
def test_the_same_peaks_as_torch(options):
    threshold = options.pop("threshold", 0.1)
    for seed in range(3):
        maps = _maps(seed)
        want = find_peaks(maps, 8, threshold, **options)
        part, xy, score = find_peaks_numpy(maps.numpy(), 8, threshold, **options)
        assert part.tolist() == want.part.tolist()
        assert np.abs(xy - want.xy.numpy()).max(initial=0) < 1e-3
        assert np.abs(score - want.score.numpy()).max(initial=0) < 1e-6


def test_plateaus_non_finite_values_and_empty_maps():
    maps = torch.zeros(18, 10, 12)
    maps[1, 4, 5] = maps[1, 4, 6] = 0.6  # a plateau of two cells: both kept, as by torch
    maps[2, 0, 0] = 0.7  # in the corner
    maps[3, 5, 5] = float("nan")
    maps[4, 6, 6] = float("inf")
    maps[5, 7, 7] = -0.9  # strongly negative: its bicubic ringing stays below the threshold
    for upsample in (1, 2):
        want = find_peaks(maps, 8, 0.1, upsample=upsample, refine="quadratic")
        part, xy, score = find_peaks_numpy(maps.numpy(), 8, 0.1, upsample=upsample, refine="quadratic")
        assert part.tolist() == want.part.tolist() and len(part) >= 2
        assert np.abs(xy - want.xy.numpy()).max() < 1e-3
    part, xy, score = find_peaks_numpy(np.zeros((18, 5, 5), np.float32), 8, 0.1, upsample=2)
    assert part.shape == (0,) and xy.shape == (0, 2) and score.shape == (0,)
    with pytest.raises(ValueError, match="unknown peak refinement"):
        find_peaks_numpy(np.zeros((1, 3, 3), np.float32), 8, 0.1, refine="fancy")
