"""What each process of a run did: a failures file of JSON lines (one per input that failed, appended by every
process) and a per-process :class:`RunSummary` that rank 0 prints for all."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..atomic import ensure_writable_dir
from ..errors import OutputError

__all__ = ["FailureLog", "RunSummary", "summary_lines"]


class FailureLog:
    """Appends ``{"input", "rank", "reason"}`` lines to ``path`` (when given) and counts them.

    Each record is one ``write`` on a file opened for appending, so the lines of several processes sharing the file
    never interleave. The folder is checked writable when the log is built, before any work.
    """

    def __init__(self, path: str | Path | None, rank: int = 0) -> None:
        self.path = Path(path) if path is not None else None
        self.rank = rank
        self.records: list[dict[str, object]] = []
        if self.path is not None:
            ensure_writable_dir(self.path.parent)

    def add(self, item: str | Path, reason: str) -> None:
        record = {"input": str(item), "rank": self.rank, "reason": reason}
        self.records.append(record)
        if self.path is None:
            return
        line = (json.dumps(record) + "\n").encode("utf-8")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError as exc:
            raise OutputError(f"cannot append to failures file {self.path}: {exc.strerror or exc}") from exc

    def __len__(self) -> int:
        return len(self.records)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One process's share of a run: inputs done, skipped (outputs already there), failed; people; seconds."""

    rank: int
    done: int
    skipped: int
    failed: int
    people: int
    seconds: float
    unit: str = "input"

    @property
    def throughput(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"rank": self.rank, "done": self.done, "skipped": self.skipped, "failed": self.failed,
                "people": self.people, "seconds": round(self.seconds, 3),
                "per_second": round(self.throughput, 3)}


def count(n: int, unit: str) -> str:
    """``1 video``, ``2 videos``, ``1 person``, ``3 people``."""
    if unit == "person":
        return f"{n} {'person' if n == 1 else 'people'}"
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _pace(done: int, seconds: float, unit: str, digits: int) -> str:
    """``2.0 images/s``; under one per second (three long videos) ``41.3 s/video``, never ``0.0 videos/s``."""
    rate = done / seconds if seconds > 0 else 0.0
    if 0 < rate < 1:
        return f"{seconds / done:.1f} s/{unit}"
    return f"{rate:.{digits}f} {unit}s/s"


def summary_lines(summaries: Sequence[RunSummary], failures_path: Path | None = None) -> list[str]:
    """The final summary: a line per process when there are several, then the totals."""
    unit = summaries[0].unit if summaries else "input"
    lines = []
    if len(summaries) > 1:
        lines += [f"rank {s.rank}: {s.done} done, {s.skipped} skipped, {s.failed} failed, {count(s.people, 'person')}, "
                  f"{_pace(s.done, s.seconds, unit, 2)}" for s in summaries]
    done = sum(s.done for s in summaries)
    skipped = sum(s.skipped for s in summaries)
    failed = sum(s.failed for s in summaries)
    people = sum(s.people for s in summaries)
    seconds = max((s.seconds for s in summaries), default=0.0)
    total = (f"{count(done, unit)} done, {skipped} skipped, {failed} failed, {count(people, 'person')}, "
             f"{_pace(done, seconds, unit, 1)}")
    if len(summaries) > 1:
        total = f"all {len(summaries)} processes: {total}"
    lines.append(total)
    if failed:
        where = f" (listed in {failures_path})" if failures_path is not None else ""
        lines.append(f"{count(failed, unit)} failed{where}")
    return lines
