import numpy as np
import torch

from openpose_py.decode.limbs import LimbCandidates, match_limbs, sample_bilinear


def _reference_greedy(scores: np.ndarray) -> set[tuple[int, int]]:
    """The textbook greedy: sort pairs by score, accept if neither end is used."""
    pairs = sorted(((s, a, b) for (a, b), s in np.ndenumerate(scores) if np.isfinite(s)), reverse=True)
    used_a, used_b, out = set(), set(), set()
    for _, a, b in pairs:
        if a not in used_a and b not in used_b:
            out.add((a, b))
            used_a.add(a)
            used_b.add(b)
    return out


def _candidates(scores: np.ndarray) -> LimbCandidates:
    t = torch.from_numpy(scores).float()
    num_limbs, na, nb = t.shape
    return LimbCandidates(t, torch.arange(na).expand(num_limbs, na), torch.arange(nb).expand(num_limbs, nb) + 100)


def test_vectorised_greedy_equals_sorted_greedy():
    rng = np.random.default_rng(0)
    for _ in range(50):
        scores = rng.random((3, rng.integers(1, 9), rng.integers(1, 9)))
        scores[rng.random(scores.shape) < 0.3] = -np.inf
        conns = match_limbs(_candidates(scores), "greedy").numpy()
        for limb in range(3):
            got = {(int(a), int(b) - 100) for li, a, b, _ in conns if li == limb}
            assert got == _reference_greedy(scores[limb])
        # grouped by limb, best first within a limb
        assert np.all(np.diff(conns[:, 0]) >= 0)
        for limb in range(3):
            s = conns[conns[:, 0] == limb, 3]
            assert np.all(np.diff(s) <= 0)


def test_optimal_matching_beats_greedy_on_the_classic_case():
    scores = np.array([[[0.9, 0.8], [0.7, -np.inf]]])
    greedy = match_limbs(_candidates(scores), "greedy")
    optimal = match_limbs(_candidates(scores), "optimal")
    assert greedy[:, 3].sum().item() == np.float32(0.9)
    assert abs(optimal[:, 3].sum().item() - 1.5) < 1e-6
    assert len(match_limbs(_candidates(np.full((2, 3, 3), -np.inf)), "optimal")) == 0


def test_bilinear_sampling():
    maps = torch.arange(2 * 3 * 4, dtype=torch.float32).view(2, 3, 4)
    ch = torch.tensor([0, 1, 1])
    x = torch.tensor([0.5, 3.0, 1.25])
    y = torch.tensor([0.0, 2.0, 1.5])
    got = sample_bilinear(maps, ch, x, y)
    expected = [0.5, 12 + 11.0, 12 + 1.5 * 4 + 1.25]
    assert torch.allclose(got, torch.tensor(expected))
