"""scripts/adapt_bench.py: people matched one to one by OKS, PCK within a share of the box, offsets per keypoint."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import load_script


def _ann(x0: float) -> dict:
    kps = np.zeros((17, 3))
    kps[:, 0] = x0 + np.arange(17) * 5
    kps[:, 1] = 100 + np.arange(17) * 10
    kps[:, 2] = 2
    kps[16, 2] = 0  # unlabelled: not counted
    return {"image_id": 1, "num_keypoints": 16, "keypoints": kps.ravel().tolist(), "bbox": [x0, 100, 80, 160],
            "area": 80 * 160}


def test_pck_and_offsets_of_matched_people() -> None:
    bench = load_script("adapt_bench")
    truth = {"annotations": [_ann(0), _ann(500)]}
    near = np.asarray(truth["annotations"][0]["keypoints"]).reshape(17, 3).copy()
    near[:, 1] += 8  # 8 pixels down: 0.05 of the 160-pixel box side
    near[0, 0] += 100  # one point far off
    results = [{"image_id": 1, "keypoints": near.ravel().tolist(), "score": 1.0}]
    pairs = bench.matched_pairs(truth, results)
    assert [d is not None for _, d in pairs] == [True, False]  # the second person is missed
    assert bench.pck(pairs, 0.1) == pytest.approx(15 / 32)  # 15 of the first person's 16 points, none of the second's
    shift = bench.offsets(pairs)
    assert shift["left_eye"] == pytest.approx([0.0, 0.05])
