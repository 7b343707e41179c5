"""Batches in flight side by side: :class:`Overlap` runs the estimator on up to ``workers`` batches at once, in
worker threads, and hands their results back in the order the batches came.

With one worker nothing overlaps and the batch runs in the calling thread (the shortest path: a single photo, a
stand-in estimator, torch on the CPU, whose own threads already take every core). With two, the network of one batch
runs while the other is pre-processed or decoded, so both cores stay busy: the OpenVINO runner then runs the two
inputs on streams of their own (:class:`~openpose_py.backends.openvino.OpenVinoRunner`), and on a GPU the device
computes one batch while the CPU decodes the other.
"""

from __future__ import annotations

import collections
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable, Sequence

from .sinks import FrameResult
from .sources import Frame

if TYPE_CHECKING:
    from ..inference import PoseEstimator

__all__ = ["Overlap", "overlap_workers", "infer"]

#: Backends whose runner takes calls from several threads and runs them side by side.
_PARALLEL_BACKENDS = ("openvino", "openvino-int8")


def overlap_workers(estimator: "PoseEstimator", live: bool = False) -> int:
    """Batches worth keeping in flight for ``estimator``: 2 for an OpenVINO backend or a GPU, else 1; 1 for a
    ``live`` run that drops stale frames (a camera), so that the frame it shows is as current as it can be."""
    device = getattr(getattr(estimator, "device", None), "type", None)
    parallel = getattr(estimator, "backend", None) in _PARALLEL_BACKENDS or device == "cuda"
    return 2 if parallel and not live else 1


def infer(estimator: "PoseEstimator", frames: Sequence[Frame], candidates: bool, maps: bool) -> list[FrameResult]:
    """One batch: its people (and keypoint candidates and maps when a sink needs them), frame by frame."""
    images = [f.image for f in frames]
    if not (candidates or maps):
        return [FrameResult(f, tuple(p), None, None) for f, p in zip(frames, estimator.predict_batch(images))]
    # one network pass gives people, candidates and maps alike
    detections = estimator.detect_batch(images, maps=maps)
    return [FrameResult(f, tuple(d.people), tuple(d.part_candidates) if candidates else None, d.maps)
            for f, d in zip(frames, detections)]


class Overlap:
    """Runs :func:`infer` on up to ``workers`` batches at once; :meth:`submit` and :meth:`drain` give the results
    back in submission order, through ``stage`` if one is given (in the calling thread, in frame order: the tracking
    step, which may hold results back and give several at once). An error of a batch is raised by the call that hands
    that batch's results back."""

    def __init__(self, estimator: "PoseEstimator", candidates: bool, maps: bool, workers: int = 1,
                 stage: Callable[[FrameResult], list[FrameResult]] | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self._estimator, self._candidates, self._maps = estimator, candidates, maps
        self._stage = stage
        self._workers = workers
        self._pool = ThreadPoolExecutor(workers, "openpose-infer") if workers > 1 else None
        self._pending: collections.deque[Future] = collections.deque()

    def submit(self, frames: Sequence[Frame]) -> list[FrameResult]:
        """Start ``frames``; the results of the oldest batch once ``workers`` batches are in flight (else [])."""
        if self._pool is None:
            return self._staged(infer(self._estimator, frames, self._candidates, self._maps))
        self._pending.append(self._pool.submit(infer, self._estimator, list(frames), self._candidates, self._maps))
        return self._staged(self._pending.popleft().result()) if len(self._pending) >= self._workers else []

    def drain(self) -> list[FrameResult]:
        """The results of every batch still in flight, oldest first."""
        out: list[FrameResult] = []
        while self._pending:
            out += self._staged(self._pending.popleft().result())
        return out

    def _staged(self, results: list[FrameResult]) -> list[FrameResult]:
        if self._stage is None:
            return results
        return [ready for result in results for ready in self._stage(result)]

    def close(self) -> list[FrameResult]:
        """End the worker threads, after the batches in flight: the results of those that finished, oldest first, up
        to the first that failed (for a run ending on an error of its own, which keeps its finished frames)."""
        out: list[FrameResult] = []
        if self._pool is not None:
            # not cancelled: a batch handed over a moment ago may not have started yet, and its frames are kept too
            self._pool.shutdown(wait=True)
        while self._pending:
            future = self._pending.popleft()
            if future.exception() is not None:
                break
            out += self._staged(future.result())
        self._pending.clear()
        return out
