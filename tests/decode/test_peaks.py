import torch

from openpose_py.decode.peaks import find_peaks, gaussian_blur
from openpose_py.codec.encode import encode_heatmaps


def _heatmaps(points):
    kp = torch.zeros(len(points), 18, 3)
    for p, (k, x, y) in enumerate(points):
        kp[p, k] = torch.tensor([x, y, 1.0])
    return encode_heatmaps(kp, (24, 32))[:18]


def test_subpixel_peaks_land_on_the_encoded_points():
    pts = [(0, 50.3, 60.7), (0, 150.0, 100.2), (4, 201.9, 33.1)]
    hm = _heatmaps(pts)
    for upsample in (1, 2, 8):
        peaks = find_peaks(hm, 8, 0.1, upsample=upsample, refine="quadratic")
        assert peaks.part.tolist() == [0, 0, 4]
        found = sorted(peaks.xy.tolist())
        for (_, x, y), (fx, fy) in zip(sorted(pts, key=lambda p: p[1]), found):
            assert abs(fx - x) < 1.0 and abs(fy - y) < 1.0, (upsample, fx, x, fy, y)


def test_centroid_refinement_and_scores():
    hm = _heatmaps([(1, 100.0, 80.0)])
    peaks = find_peaks(hm, 8, 0.1, upsample=8, refine="centroid")
    assert len(peaks.part) == 1
    assert abs(peaks.xy[0, 0] - 100.0) < 1.0 and abs(peaks.xy[0, 1] - 80.0) < 1.0
    assert 0.9 < peaks.score[0] <= 1.01


def test_threshold_neighbourhood_and_max_peaks():
    hm = torch.zeros(18, 10, 10)
    hm[2, 2, 2], hm[2, 2, 3] = 0.5, 0.4  # the weaker is a neighbour: suppressed
    hm[2, 7, 7] = 0.3
    hm[2, 5, 0] = 0.05  # under threshold
    peaks = find_peaks(hm, 8, 0.1)
    assert peaks.part.tolist() == [2, 2]
    assert sorted(peaks.score.tolist()) == [0.30000001192092896, 0.5]
    assert find_peaks(hm, 8, 0.1, max_peaks=1).score.tolist() == [0.5]
    diagonal = torch.zeros(18, 5, 5)
    diagonal[0, 1, 1], diagonal[0, 2, 2] = 0.5, 0.6
    assert len(find_peaks(diagonal, 8, 0.1, neighbourhood=4).part) == 2
    assert len(find_peaks(diagonal, 8, 0.1, neighbourhood=8).part) == 1


def test_blur_keeps_mass_and_shape():
    maps = torch.zeros(1, 41, 41)
    maps[0, 20, 20] = 1.0
    blurred = gaussian_blur(maps, 3.0)
    assert abs(blurred.sum().item() - 1.0) < 1e-4
    assert blurred[0].argmax().item() == 20 * 41 + 20
    assert abs(blurred[0, 20, 23].item() / blurred[0, 20, 20].item() - 0.6065) < 1e-3  # exp(-1/2) one sigma away
