"""The failures file (JSON lines appended by every process) and the final summary."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from openpose_py.errors import OutputError
from openpose_py.runs import FailureLog, RunSummary, summary_lines


def _fail_many(path: str, rank: int) -> None:
    log = FailureLog(path, rank)
    for i in range(200):
        log.add(f"clip{i}.mp4", "x" * 300)


def test_processes_appending_to_one_failures_file_never_interleave_lines(tmp_path):
    path = tmp_path / "failed.jsonl"
    procs = [multiprocessing.get_context("fork").Process(target=_fail_many, args=(str(path), r)) for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted((r["rank"], r["input"]) for r in records) == sorted((r, f"clip{i}.mp4") for r in range(2)
                                                                      for i in range(200))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        FailureLog(blocker / "failed.jsonl")


def test_the_summary_has_a_line_per_process_then_totals_and_where_the_failures_are(tmp_path):
    shares = [RunSummary(0, 10, 2, 1, 31, 5.0, unit="video"), RunSummary(1, 12, 0, 0, 40, 4.0, unit="video")]
    assert summary_lines(shares, tmp_path / "f.jsonl") == [
        "rank 0: 10 done, 2 skipped, 1 failed, 31 people, 2.00 videos/s",
        "rank 1: 12 done, 0 skipped, 0 failed, 40 people, 3.00 videos/s",
        "all 2 processes: 22 videos done, 2 skipped, 1 failed, 71 people, 4.4 videos/s",
        f"1 video failed (listed in {tmp_path / 'f.jsonl'})",
    ]
    assert summary_lines([RunSummary(0, 3, 0, 0, 9, 1.5, unit="image")]) == [
        "3 images done, 0 skipped, 0 failed, 9 people, 2.0 images/s"]
    # three long videos: the pace per video, not "0.0 videos/s"
    assert summary_lines([RunSummary(0, 3, 0, 0, 9, 124.0, unit="video")]) == [
        "3 videos done, 0 skipped, 0 failed, 9 people, 41.3 s/video"]
