import numpy as np
import pytest
import torch

from openpose_py.codec.encode import encode_heatmaps, encode_pafs
from openpose_py.decode.cpu_limbs import match_limbs_numpy, sample_bilinear_numpy, score_limbs_numpy
from openpose_py.decode.limbs import LimbCandidates, LimbScoring, match_limbs, sample_bilinear, score_limbs
from openpose_py.decode.peaks import find_peaks
from openpose_py.skeleton import BODY_25, COCO_18

from .test_decoder import _synthetic_crowd


def test_bilinear_sampling_equals_torch_and_zeroes_non_finite_values():
    rng = np.random.default_rng(0)
    maps = rng.random((4, 5, 7)).astype(np.float32)
    maps[1, 2, 3], maps[2, 0, 0] = np.nan, np.inf
    channel = rng.integers(0, 4, 50)
    x = rng.uniform(-1, 8, 50).astype(np.float32)
    y = rng.uniform(-1, 6, 50).astype(np.float32)
    got = sample_bilinear_numpy(maps.reshape(-1), 5, 7, channel, x, y)
    clean = torch.nan_to_num(torch.from_numpy(maps), nan=0.0, posinf=0.0, neginf=0.0)
    want = sample_bilinear(clean, torch.from_numpy(channel), torch.from_numpy(x), torch.from_numpy(y)).numpy()
    assert np.isfinite(got).all() and np.abs(got - want).max() < 1e-6


@pytest.mark.parametrize("skeleton, samples, inliers_only, prior, short", [
    (COCO_18, 10, False, True, 2.0),
    (COCO_18, None, True, False, None),
    (BODY_25, 10, False, True, None),
])
def test_limb_scores_equal_torch(skeleton, samples, inliers_only, prior, short):
    kp = _synthetic_crowd(np.random.default_rng(2), COCO_18, people=4)
    if skeleton is BODY_25:
        kp = torch.cat((kp, kp[:, :7, :]), dim=1)  # 25 keypoints: the extra ones repeat some (odd but valid)
    size = (46, 62)
    heatmaps = encode_heatmaps(kp, size)[:skeleton.num_keypoints]
    pafs = encode_pafs(kp, skeleton, size) + 0.02 * torch.randn(skeleton.num_pafs, *size,
                                                                 generator=torch.Generator().manual_seed(0))
    peaks = find_peaks(heatmaps, 8, 0.1, upsample=2, refine="quadratic")
    scoring = LimbScoring(samples, 0.05, 0.8, prior, inliers_only, short)
    want = score_limbs(peaks, pafs, 8, skeleton, scoring, 368.0)
    scores, index_a, index_b = score_limbs_numpy(peaks.part.numpy(), peaks.xy.numpy(), pafs.numpy(), 8, skeleton,
                                                 scoring, 368.0)
    assert np.array_equal(index_a, want.index_a.numpy()) and np.array_equal(index_b, want.index_b.numpy())
    finite = np.isfinite(scores)
    assert np.array_equal(finite, torch.isfinite(want.scores).numpy()) and finite.sum() > 20
    assert np.abs(scores[finite] - want.scores.numpy()[finite]).max() < 1e-5


@pytest.mark.parametrize("method", ["greedy", "optimal"])
def test_matching_equals_torch(method):
    rng = np.random.default_rng(1)
    for _ in range(20):
        scores = rng.random((4, rng.integers(1, 7), rng.integers(1, 7))).astype(np.float32)
        scores[rng.random(scores.shape) < 0.3] = -np.inf
        num_limbs, na, nb = scores.shape
        index_a, index_b = np.tile(np.arange(na), (num_limbs, 1)), np.tile(np.arange(nb), (num_limbs, 1)) + 100
        want = match_limbs(LimbCandidates(torch.from_numpy(scores), torch.from_numpy(index_a),
                                          torch.from_numpy(index_b)), method).tolist()
        got = list(zip(*match_limbs_numpy(scores, index_a, index_b, method)))
        assert [tuple(row) for row in want] == [tuple(map(float, row)) for row in got]
    assert match_limbs_numpy(np.zeros((3, 0, 2), np.float32), np.zeros((3, 0), int), np.zeros((3, 2), int)) == \
        ([], [], [], [])
    with pytest.raises(ValueError, match="unknown matching method"):
        match_limbs_numpy(np.zeros((1, 1, 1), np.float32), np.zeros((1, 1), int), np.zeros((1, 1), int), "best")
