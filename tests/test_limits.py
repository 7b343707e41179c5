"""InputLimits: the bounds refuse combinations that could not hold a thin strip, or that are not sizes."""

from __future__ import annotations

import pytest

from openpose_py.limits import DEFAULT_LIMITS, InputLimits


def test_defaults_and_refused_combinations():
    assert DEFAULT_LIMITS == InputLimits(max_side=4096, max_pixels=2048 * 2048, min_side=16, max_map_pixels=1920 * 1080)
    with pytest.raises(ValueError, match=r"^InputLimits.max_pixels \(1000\) must be at least max_side x min_side "
                                         r"\(16000\)$"):
        InputLimits(max_side=1000, max_pixels=1000)
    with pytest.raises(ValueError, match=r"^InputLimits.min_side \(64\) exceeds max_side \(32\)$"):
        InputLimits(max_side=32, min_side=64)
    for bad in (0, -5, 2.5, True, "64"):
        with pytest.raises(ValueError, match="^InputLimits.max_side must be an integer >= 1, got "):
            InputLimits(max_side=bad)
