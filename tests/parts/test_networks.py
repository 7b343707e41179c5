"""A landmark network: uint8 BGR crops in, the same answers from its fixed-batch and free-batch models."""

from __future__ import annotations

import numpy as np
import pytest

from openpose_py.parts.networks import STATIC_BATCHES


def test_fixed_and_free_batch_models_answer_alike(parts_estimator):
    net = parts_estimator.network("iris")  # the smallest network: cheap to compile twice
    crops = np.random.default_rng(0).integers(0, 256, (STATIC_BATCHES + 1, net.size, net.size, 3), dtype=np.uint8)
    free = net(crops)  # more crops than a fixed-batch model is made for
    fixed = net(crops[:2])
    for a, b in zip(free, fixed):
        assert a.shape[0] == STATIC_BATCHES + 1 and b.shape[0] == 2
        assert np.allclose(a[:2], b, rtol=1 / 64, atol=1 / 64)  # the CPU may run them in bfloat16: 8-bit mantissas
    mirrored = net(np.ascontiguousarray(crops[:2, :, :, ::-1]))  # RGB given as BGR: the network sees other colours
    assert np.abs(mirrored[0] - fixed[0]).max() > 0.5
    assert [o.shape for o in net(crops[:0])] == [(0, o.shape[1]) for o in fixed]


def test_crops_must_be_uint8_of_the_network_size(parts_estimator):
    net = parts_estimator.network("iris")
    with pytest.raises(ValueError, match="uint8 BGR crops, got float32"):
        net(np.zeros((1, net.size, net.size, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 64, 64, 3\)"):
        net(np.zeros((1, 32, 32, 3), np.uint8))
