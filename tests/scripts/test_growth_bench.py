"""scripts/growth_bench.py: the tiled crowd holds each person whole, in a grid about as wide as high."""

from __future__ import annotations

import numpy as np

from .conftest import load_script


def test_tiles_hold_n_whole_copies_and_grey_spare_cells():
    growth = load_script("growth_bench")
    person = np.arange(4 * 2 * 3, dtype=np.uint8).reshape(4, 2, 3) + 1
    for n in (1, 2, 5, 50):
        canvas = growth.tiled(person, n)
        rows, cols = canvas.shape[0] // 4, canvas.shape[1] // 2
        assert canvas.shape[0] % 4 == 0 and canvas.shape[1] % 2 == 0 and rows * cols >= n > (rows - 1) * cols
        cells = [canvas[r * 4:(r + 1) * 4, c * 2:(c + 1) * 2] for r in range(rows) for c in range(cols)]
        assert all(np.array_equal(cell, person) for cell in cells[:n])
        assert all((cell == 128).all() for cell in cells[n:])
