"""Who a process is under torchrun, and its share of the inputs: disjoint, complete, and the same on every run."""

from __future__ import annotations

import pytest

from openpose_py.errors import DistributedError
from openpose_py.runs import RunContext


def test_the_torchrun_environment_gives_rank_and_sizes_and_its_absence_one_process():
    env = {"RANK": "5", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "4"}
    assert RunContext.from_env(env) == RunContext(5, 8, 1, 4)
    assert RunContext.from_env({}) == RunContext(0, 1, 0, 1) and not RunContext.from_env({}).distributed
    for bad, message in [({"RANK": "x", "WORLD_SIZE": "2"}, r"\$RANK must be an integer"),
                         ({"RANK": "2", "WORLD_SIZE": "2"}, "rank 2 is not within a world of size 2"),
                         ({"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "3"}, "local rank 3")]:
        with pytest.raises(DistributedError, match=message):
            RunContext.from_env(bad)


@pytest.mark.parametrize("world", [1, 2, 3, 7])
def test_shares_are_disjoint_cover_every_input_and_follow_the_input_order(world):
    items = [f"clip{i:03d}" for i in range(20)]
    shares = [RunContext(rank, world).shard(items) for rank in range(world)]
    assert sorted(x for share in shares for x in share) == items
    assert sum(len(share) for share in shares) == len(items)
    assert max(map(len, shares)) - min(map(len, shares)) <= 1, "balanced to one input"
    for rank, share in enumerate(shares):
        assert share == [items[i] for i in RunContext(rank, world).positions(len(items))]


def test_each_process_gets_its_own_gpu_and_a_share_of_the_cpu_cores(monkeypatch):
    monkeypatch.setattr("openpose_py.runs.context._usable_cpus", lambda: 16)
    four = RunContext(rank=6, world_size=8, local_rank=2, local_world_size=4)
    assert four.device("cuda") == "cuda:2" and four.device("cuda:0") == "cuda:0" and four.device("cpu") == "cpu"
    assert four.threads(None) == 4 and four.threads(3) == 3
    alone = RunContext()
    assert alone.device("cuda") == "cuda" and alone.threads(None) is None
