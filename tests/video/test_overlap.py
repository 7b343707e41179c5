"""Batches in flight side by side: results in order, errors raised where the batch is handed back, and the real
network's people unchanged by the overlap."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from openpose_py.video.overlap import Overlap, overlap_workers
from openpose_py.video.pipeline import run_pipeline
from openpose_py.video.sinks import FrameSink
from openpose_py.video.sources import Frame

from .conftest import SELFIE, FakeEstimator, needs_shared


class SlowEstimator(FakeEstimator):
    """The stand-in estimator, taking 20 ms per batch and recording how many batches ran at once; it fails on the
    frame ``fail_on`` of :func:`_frames`."""

    def __init__(self, fail_on: int | None = None) -> None:
        super().__init__()
        self.fail_on = fail_on
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def predict_batch(self, images):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.02)
            if any(im.mean() == 10 * self.fail_on for im in images if self.fail_on is not None):
                raise ValueError("batch failed")
            return super().predict_batch(images)
        finally:
            with self.lock:
                self.running -= 1


def _frames(n: int) -> list[Frame]:
    return [Frame(i, np.full((16, 24, 3), 10 * i, np.uint8), f"f{i}") for i in range(n)]


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_order_with_up_to_workers_batches_at_once(workers):
    estimator = SlowEstimator()
    overlap = Overlap(estimator, candidates=False, maps=False, workers=workers)
    frames = _frames(7)
    out = []
    for i in range(0, 7, 2):
        out += overlap.submit(frames[i:i + 2])
    out += overlap.drain()
    overlap.close()
    assert [r.frame.index for r in out] == list(range(7))
    assert [r.people[0].score for r in out] == [float(f.image.mean()) for f in frames]
    assert estimator.most == workers


def test_an_error_is_raised_where_its_batch_is_handed_back():
    overlap = Overlap(SlowEstimator(fail_on=1), candidates=False, maps=False, workers=2)
    frames = _frames(3)
    assert overlap.submit(frames[:1]) == []
    assert [r.frame.index for r in overlap.submit(frames[1:2])] == [0], "the first batch comes back whole"
    with pytest.raises(ValueError, match="batch failed"):
        overlap.drain()
    overlap.close()


class _Collect(FrameSink):
    def __init__(self) -> None:
        self.people = []

    def write(self, result) -> None:
        self.people.append(result.people)


@needs_shared
def test_the_default_backend_overlaps_batches_and_finds_the_same_people(tmp_path):
    from openpose_py import PoseEstimator
    from openpose_py.video.sources import FrameRange, VideoSource

    estimator = PoseEstimator.from_pretrained(height=128, threads=2)
    assert estimator.backend.startswith("openvino") and overlap_workers(estimator) == 2
    assert overlap_workers(estimator, live=True) == 1, "a camera infers its newest frame, one at a time"
    assert overlap_workers(FakeEstimator()) == 1, "a stand-in (or torch on the CPU) runs one batch at a time"
    sink = _Collect()
    with VideoSource(SELFIE, FrameRange(end=8)) as source:
        expected = [estimator.predict_batch([f.image])[0] for f in source]  # one at a time: the latency request
    assert estimator._runner.streams == 1
    run_pipeline(estimator, SELFIE, [sink], frames=FrameRange(end=8))
    assert estimator._runner.streams == 2, "the batches ran side by side"
    assert len(sink.people) == 8 and all(sink.people)
    for got, want in zip(sink.people, expected):
        assert [round(p.score, 3) for p in got] == [round(p.score, 3) for p in want]


def test_closing_on_an_error_keeps_the_batches_that_finished_up_to_the_first_failure():
    overlap = Overlap(SlowEstimator(fail_on=2), candidates=False, maps=False, workers=2)
    frames = _frames(3)
    assert overlap.submit(frames[:1]) == [] and [r.frame.index for r in overlap.submit(frames[1:2])] == [0]
    overlap.submit(frames[2:3])  # batch 2 comes back; batch 3 (failing) is in flight
    assert Overlap(SlowEstimator(), False, False, workers=2).close() == []
    assert overlap.close() == [], "the failed batch is dropped, and nothing is raised"
    kept = Overlap(SlowEstimator(), False, False, workers=2)
    kept.submit(frames[:1])
    assert [r.frame.index for r in kept.close()] == [0], "a finished batch in flight is handed back"


def test_closing_keeps_a_batch_handed_over_just_before():
    """Failure: closing right after a submit cancelled the batch when no worker had picked it up yet (a busy
    machine), and a truncated video lost its last good frame."""
    for _ in range(20):
        overlap = Overlap(SlowEstimator(), False, False, workers=2)
        overlap.submit(_frames(1))
        assert [r.frame.index for r in overlap.close()] == [0]
