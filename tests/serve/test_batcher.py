"""On-the-fly batching with the real network: requests that arrive together share one call; a full queue refuses."""

from __future__ import annotations

import asyncio

import pytest

from openpose_py import PoseEstimator
from openpose_py.serve.batcher import MicroBatcher, Overloaded

from .conftest import selfie_frames


@pytest.fixture(scope="module")
def estimator(estimator_160) -> PoseEstimator:
    return estimator_160


@pytest.fixture(scope="module")
def frames() -> list:
    return selfie_frames(4)


def _run(batcher: MicroBatcher, jobs):
    async def main():
        await batcher.start()
        try:
            return await asyncio.gather(*(batcher.detect(*job) for job in jobs), return_exceptions=True)
        finally:
            await batcher.stop()

    return asyncio.run(main())


def test_simultaneous_requests_share_one_network_call(estimator, frames) -> None:
    batcher = MicroBatcher(estimator, max_batch=8, max_wait_s=0.05)
    results = _run(batcher, [(f,) for f in frames])
    assert batcher.stats.batches == 1 and batcher.stats.largest_batch == len(frames)
    expected = estimator.detect_batch(frames)
    for (detection, timing), want in zip(results, expected):
        assert timing.batch_size == len(frames)
        assert detection.people == want.people and detection.people


def test_max_batch_one_runs_each_request_alone(estimator, frames) -> None:
    batcher = MicroBatcher(estimator, max_batch=1)
    results = _run(batcher, [(f,) for f in frames])
    assert batcher.stats.batches == len(frames) and batcher.stats.largest_batch == 1
    assert all(timing.batch_size == 1 for _, timing in results)


def test_each_request_keeps_its_own_decoder_settings(estimator, frames) -> None:
    strict = estimator.decoder.replace(min_mean_score=50.0)
    batcher = MicroBatcher(estimator, max_batch=8, max_wait_s=0.05)
    (loose, _), (none, _) = _run(batcher, [(frames[0],), (frames[0], strict)])
    assert loose.people and none.people == []
    assert batcher.stats.batches == 1


def test_a_full_queue_refuses_at_once_and_recovers(estimator, frames) -> None:
    batcher = MicroBatcher(estimator, max_batch=1, max_queue=2)

    async def main():
        await batcher.start()
        try:
            burst = await asyncio.gather(*(batcher.detect(frames[0]) for _ in range(8)), return_exceptions=True)
            after = await batcher.detect(frames[0])
            return burst, after
        finally:
            await batcher.stop()

    burst, (after, _) = asyncio.run(main())
    refused = [r for r in burst if isinstance(r, Overloaded)]
    assert len(refused) == 6 and "server busy" in str(refused[0])
    assert all(r[0].people for r in burst if not isinstance(r, Exception))
    assert after.people and batcher.stats.rejected == 6
