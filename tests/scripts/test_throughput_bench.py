"""scripts/throughput_bench.py: its table compares each of ours with the fastest peer variant, in the right
direction for each unit."""

from __future__ import annotations

from .conftest import load_script


def _runs(count: int, *seconds: float, backend: str = "b") -> list[dict]:
    return [{"count": count, "seconds": s, "backend": backend, "load_avg_1m": 1.5} for s in seconds]


def test_the_table_gives_medians_and_ratios_against_the_fastest_peer():
    bench = load_script("throughput_bench")
    records = {"photos": _runs(10, 0.5, 0.4, 0.6), "video": _runs(100, 2.0, 4.0, 2.5),
               "peer-photos": _runs(10, 3.0, 3.0, 3.0), "peer-photos-passive": _runs(10, 2.0, 2.0),
               "peer-video": _runs(100, 10.0), "peer-video-passive": _runs(100, 20.0)}
    lines = bench.table(records).splitlines()
    photos = next(line for line in lines if line.startswith("| photos |"))
    assert "50.0, 40.0, 60.0 ms/photo | 50.0 ms/photo | 4.00x |" in photos  # 200 ms for the faster peer
    video = next(line for line in lines if line.startswith("| video |"))
    assert "| 40.0 frames/s | 4.00x |" in video  # 10 frames/s for the faster peer
    assert all(line.endswith("| - |") for line in lines if line.startswith("| peer-"))
    assert lines[-1] == "1-minute load average at the end of the runs: 1.5-1.5"
