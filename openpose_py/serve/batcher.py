"""On-the-fly batching: requests that arrive together share one network call.

Each request puts its decoded image on a bounded queue and waits. One task takes the first waiting image, keeps
collecting for up to ``max_wait_s`` (or until ``max_batch`` images), and runs them through
:meth:`PoseEstimator.detect_batch` on a single worker thread, so the event loop keeps accepting requests while the
network runs. While a batch runs, the next one fills up, which is how throughput rises with load. A full queue is
refused at once (:class:`Overloaded`) rather than answered late.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..decode.decoder import DecoderConfig
from ..inference import Detection, PoseEstimator

__all__ = ["MicroBatcher", "Overloaded", "BatchTiming", "BatcherStats"]

log = logging.getLogger(__name__)

_DECODER_CACHE = 16  # estimator views kept for distinct per-request decoder settings


class Overloaded(RuntimeError):
    """The queue of waiting images is full."""


@dataclass(frozen=True, slots=True)
class BatchTiming:
    """Where one image's time went: waiting for its batch, and the batch's network + decoding call."""

    queue_ms: float
    infer_ms: float
    batch_size: int


@dataclass(slots=True)
class BatcherStats:
    batches: int = 0
    images: int = 0
    rejected: int = 0
    largest_batch: int = 0


@dataclass(slots=True)
class _Job:
    image: np.ndarray
    decoder: DecoderConfig
    future: asyncio.Future
    queued_at: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    """Batches :meth:`detect` calls from many coroutines into few ``detect_batch`` calls; ``max_batch=1`` turns
    batching off (one image per network call, no waiting)."""

    def __init__(self, estimator: PoseEstimator, *, max_batch: int = 8, max_wait_s: float = 0.005,
                 max_queue: int = 32) -> None:
        if max_batch < 1 or max_queue < 1 or max_wait_s < 0:
            raise ValueError("max_batch and max_queue must be >= 1 and max_wait_s >= 0")
        self.estimator = estimator
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s if max_batch > 1 else 0.0
        self.max_queue = max_queue
        self.stats = BatcherStats()
        self._views: OrderedDict[DecoderConfig, PoseEstimator] = OrderedDict({estimator.decoder: estimator})
        self._queue: asyncio.Queue[_Job] | None = None
        self._task: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def queued(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="openpose-py-batch")
        self._task = asyncio.get_running_loop().create_task(self._serve(), name="openpose-py-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._queue is not None:
            while not self._queue.empty():
                job = self._queue.get_nowait()
                if not job.future.done():
                    job.future.set_exception(Overloaded("the server is shutting down"))
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    async def detect(self, image: np.ndarray, decoder: DecoderConfig | None = None) -> tuple[Detection, BatchTiming]:
        """People and keypoint candidates of one BGR image, with its timing; raises :class:`Overloaded`."""
        if self._queue is None:
            raise RuntimeError("MicroBatcher.start() was not called")
        if self._queue.qsize() >= self.max_queue:
            self.stats.rejected += 1
            raise Overloaded(f"server busy: {self.max_queue} images already queued; retry shortly")
        job = _Job(image, decoder or self.estimator.decoder, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(job)
        return await job.future

    # ---- internals -------------------------------------------------------------------------------------------------
    async def _serve(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + self.max_wait_s
            while len(batch) < self.max_batch:
                if not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                    continue
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except asyncio.TimeoutError:
                    break
            batch = [job for job in batch if not job.future.done()]  # callers that went away
            if not batch:
                continue
            started = time.perf_counter()
            try:
                detections = await loop.run_in_executor(self._executor, self._run, batch)
            except Exception as exc:  # a failure of the network call fails its batch, not the server
                log.exception("batch of %d images failed", len(batch))
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            infer_ms = (time.perf_counter() - started) * 1e3
            self.stats.batches += 1
            self.stats.images += len(batch)
            self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
            for job, detection in zip(batch, detections):
                if not job.future.done():
                    timing = BatchTiming((started - job.queued_at) * 1e3, infer_ms, len(batch))
                    job.future.set_result((detection, timing))

    def _run(self, batch: list[_Job]) -> list[Detection]:
        """On the worker thread: one ``detect_batch`` per distinct decoder setting in the batch."""
        out: list[Detection | None] = [None] * len(batch)
        groups: dict[DecoderConfig, list[int]] = {}
        for i, job in enumerate(batch):
            groups.setdefault(job.decoder, []).append(i)
        for decoder, members in groups.items():
            detections = self._view(decoder).detect_batch([batch[i].image for i in members])
            for i, detection in zip(members, detections):
                out[i] = detection
        return out  # type: ignore[return-value]

    def _view(self, decoder: DecoderConfig) -> PoseEstimator:
        view = self._views.get(decoder)
        if view is None:
            view = self._views[decoder] = self.estimator.with_decoder(decoder)
            if len(self._views) > _DECODER_CACHE:
                # keep the server's own setting; drop the oldest other one
                oldest = next(k for k in self._views if k != self.estimator.decoder)
                del self._views[oldest]
        else:
            self._views.move_to_end(decoder)
        return view
