"""Who this process is in a run launched by ``torchrun`` (or alone), and which inputs are its own.

Sharding needs no process group: every process lists the same inputs in the same order and keeps every
``world_size``-th one from its ``rank`` on, so the shares are disjoint, cover everything, and do not depend on timing.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from typing import Mapping, Sequence, TypeVar

from ..errors import DistributedError

__all__ = ["RunContext", "STOP_SIGNALS"]

#: The signals that ask a run to stop cleanly: Ctrl-C, and what `timeout`, `docker stop`, systemd, Slurm and torchrun
#: send (where the platform has them).
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                                                 if hasattr(signal, name))

T = TypeVar("T")


def _env_int(env: Mapping[str, str], key: str, default: int) -> int:
    text = env.get(key)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise DistributedError(f"${key} must be an integer, got {text!r}") from None


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class RunContext:
    """This process's place in the run: global rank and size, and rank and size on this machine."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    def __post_init__(self) -> None:
        if self.world_size < 1 or not 0 <= self.rank < self.world_size:
            raise DistributedError(f"rank {self.rank} is not within a world of size {self.world_size}")
        if self.local_world_size < 1 or not 0 <= self.local_rank < self.local_world_size:
            raise DistributedError(f"local rank {self.local_rank} is not within {self.local_world_size} local "
                                   "processes")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "RunContext":
        """From the variables ``torchrun`` sets (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``);
        a single process when they are absent."""
        env = os.environ if env is None else env
        world = _env_int(env, "WORLD_SIZE", 1)
        local_world = _env_int(env, "LOCAL_WORLD_SIZE", world)
        return cls(_env_int(env, "RANK", 0), world, _env_int(env, "LOCAL_RANK", 0), local_world)

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def shard(self, items: Sequence[T]) -> list[T]:
        """This process's share of ``items``: positions ``rank, rank + world_size, ...``."""
        return list(items[self.rank::self.world_size])

    def positions(self, count: int) -> range:
        """Positions (in the full list of ``count`` inputs) of this process's share."""
        return range(self.rank, count, self.world_size)

    def device(self, device: str) -> str:
        """The device this process uses: a bare ``cuda`` becomes this machine's ``cuda:LOCAL_RANK`` in a run of
        several processes; an explicit index or another device is kept."""
        if self.distributed and device == "cuda":
            return f"cuda:{self.local_rank}"
        return device

    def threads(self, threads: int | None) -> int | None:
        """CPU threads for this process: the given number, else (several processes on this machine) the usable
        cores divided among them, so that they do not oversubscribe the CPU."""
        if threads is not None or self.local_world_size == 1:
            return threads
        return max(1, _usable_cpus() // self.local_world_size)
