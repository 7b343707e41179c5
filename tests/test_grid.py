"""MapGrid: the one cell <-> input-pixel rule, both ways, and grid_sample's coordinates on it."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from openpose_py.grid import MapGrid


def test_cells_and_pixels_map_both_ways():
    grid = MapGrid(8)
    assert grid.offset == 3.5 and grid.to_input(0.0) == 3.5 and grid.to_input(2.0) == 19.5
    pixels = torch.tensor([[-0.5, 0.0], [3.5, 100.25]])
    assert torch.allclose(grid.to_input(grid.to_cells(pixels)), pixels)
    assert torch.equal(grid.centres(3), torch.tensor([3.5, 11.5, 19.5]))
    # a cell covers [8 j - 0.5, 8 (j + 1) - 0.5): its edges are half a cell from its centre
    assert grid.to_cells(-0.5) == -0.5 and grid.to_cells(7.5) == 0.5
    # a fractional stride (an upsampled map) keeps the rule: stride 1 is the input's own pixels
    assert MapGrid(1).offset == 0.0 and MapGrid(2.5).to_input(1.0) == 2.5 + 0.75


def test_grid_sample_coordinates_land_on_cell_centres():
    torch.manual_seed(0)
    maps = torch.rand(1, 2, 5, 7)
    grid = MapGrid(8)
    gx, gy = grid.to_unit(grid.centres(7), 7), grid.to_unit(grid.centres(5), 5)
    coords = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], -1).unsqueeze(0)
    sampled = F.grid_sample(maps, coords, mode="bilinear", align_corners=False)
    assert torch.allclose(sampled, maps, atol=1e-6)
    assert torch.allclose(grid.to_unit(torch.tensor([-0.5, 55.5]), 7), torch.tensor([-1.0, 1.0]))
