"""Which samples each step of each worker trains on: a resumable, distributed batch sampler.

The global sample stream is the concatenation of per-epoch permutations of the dataset, each a pure function of
``(seed, epoch)``. Step ``s`` consumes stream positions ``[s G, (s + 1) G)`` for a global batch ``G``; rank ``r`` of
``R`` takes the ``r``-th of ``R`` equal slices. The data position is therefore the step alone: resuming at step ``s``
(on any number of workers with the same global batch) yields exactly the samples a straight run would have seen, which
``torch.utils.data.DistributedSampler`` cannot do mid-epoch. Each key also carries its stream position, the ``draw``
that seeds the sample's augmentation (see :class:`openpose_py.data.CocoKeypoints`).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from torch.utils.data import Sampler

__all__ = ["StepSampler"]


class StepSampler(Sampler[list[tuple[int, int]]]):
    """Yields, for steps ``start_step .. end_step - 1``, this rank's keys ``(dataset index, draw)``.

    Args:
        num_samples: dataset length.
        global_batch: samples per step over all ranks; must be divisible by ``world_size``.
        end_step: the step to stop before (the run's total).
        rank, world_size: this worker and the number of workers.
        seed: seeds the per-epoch permutations.
        start_step: the first step (resume point).
        shuffle: permute each epoch (False: dataset order, for debugging).
    """

    def __init__(self, num_samples: int, global_batch: int, end_step: int, *, rank: int = 0, world_size: int = 1,
                 seed: int = 0, start_step: int = 0, shuffle: bool = True) -> None:
        if num_samples <= 0:
            raise ValueError("cannot sample from an empty dataset")
        if global_batch <= 0 or global_batch % world_size:
            raise ValueError(f"global batch {global_batch} must be a positive multiple of the {world_size} workers")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside 0..{world_size - 1}")
        self.num_samples = num_samples
        self.global_batch = global_batch
        self.local_batch = global_batch // world_size
        self.end_step = end_step
        self.rank = rank
        self.seed = seed
        self.start_step = start_step
        self.shuffle = shuffle
        self._epoch = -1
        self._order = np.arange(num_samples)

    def epoch_order(self, epoch: int) -> np.ndarray:
        """(num_samples,) dataset indices in the order epoch ``epoch`` visits them."""
        if epoch != self._epoch:
            self._epoch = epoch
            self._order = (np.random.default_rng([self.seed, epoch]).permutation(self.num_samples) if self.shuffle
                           else np.arange(self.num_samples))
        return self._order

    def keys(self, step: int) -> list[tuple[int, int]]:
        """This rank's ``(index, draw)`` keys for one step."""
        first = step * self.global_batch + self.rank * self.local_batch
        out = []
        for pos in range(first, first + self.local_batch):
            epoch, offset = divmod(pos, self.num_samples)
            out.append((int(self.epoch_order(epoch)[offset]), pos))
        return out

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        for step in range(self.start_step, self.end_step):
            yield self.keys(step)

    def __len__(self) -> int:
        return max(0, self.end_step - self.start_step)
