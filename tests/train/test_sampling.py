"""Resumable distributed batch sampler: epochs are permutations, ranks partition the global batch, resume = tail."""

from __future__ import annotations

import pytest

from openpose_py.train.sampling import StepSampler


def test_each_epoch_visits_every_sample_once_with_running_draws() -> None:
    sampler = StepSampler(10, 4, 5, seed=3)
    keys = [k for batch in sampler for k in batch]
    assert [d for _, d in keys] == list(range(20))
    assert sorted(i for i, _ in keys[:10]) == list(range(10))
    assert sorted(i for i, _ in keys[10:20]) == list(range(10))
    assert [i for i, _ in keys[:10]] != [i for i, _ in keys[10:20]]  # a new permutation per epoch
    assert [i for i, _ in keys[:10]] != list(range(10))
    assert list(StepSampler(10, 4, 5, seed=3)) == list(sampler)
    assert list(StepSampler(10, 4, 5, seed=4)) != list(sampler)
    assert len(sampler) == 5


def test_ranks_partition_the_global_batch() -> None:
    single = list(StepSampler(7, 6, 4, seed=1))
    ranks = [list(StepSampler(7, 6, 4, rank=r, world_size=3, seed=1)) for r in range(3)]
    for step in range(4):
        assert ranks[0][step] + ranks[1][step] + ranks[2][step] == single[step]


def test_resume_continues_the_same_stream() -> None:
    straight = list(StepSampler(9, 4, 10, seed=0))
    assert list(StepSampler(9, 4, 10, seed=0, start_step=6)) == straight[6:]
    # a different number of workers with the same global batch resumes the same samples
    resumed = [StepSampler(9, 4, 10, rank=r, world_size=2, seed=0, start_step=6) for r in range(2)]
    assert [a + b for a, b in zip(*resumed)] == straight[6:]


@pytest.mark.parametrize("kwargs", [{"num_samples": 0, "global_batch": 2}, {"num_samples": 4, "global_batch": 3,
                                                                           "world_size": 2}])
def test_invalid_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        StepSampler(end_step=2, **kwargs)
