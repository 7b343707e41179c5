"""What one served app owns (no module-level state): its estimator, batcher, settings, open streams and readiness.

A room of its own so that the HTTP routes (:mod:`.app`) and the WebSocket stream (:mod:`.stream`) both read it
without importing each other."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import numpy as np

from ..inference import PoseEstimator
from .batcher import MicroBatcher
from .config import ServeConfig, SessionFactory
from .uploads import PixelBudget

__all__ = ["ServerState", "warm_up"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ServerState:
    """Everything one app owns (no module-level state): its estimator, batcher, settings and open streams."""

    estimator: PoseEstimator
    config: ServeConfig
    batcher: MicroBatcher
    session_factory: SessionFactory
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    streams: int = 0
    pixels: PixelBudget = field(init=False)

    def __post_init__(self) -> None:
        self.pixels = PixelBudget(self.config.max_inflight_pixels)


async def warm_up(state: ServerState) -> None:
    """Run the network once (first calls allocate and tune) before reporting ready."""
    started = time.perf_counter()
    height = state.estimator.preprocess_spec.height
    try:
        await state.batcher.detect(np.zeros((height, height * 4 // 3, 3), np.uint8))
    except Exception:  # stays not ready: /readyz keeps answering 503
        log.exception("warm-up failed")
        return
    state.ready.set()
    log.info("ready: model warmed up in %.1f s", time.perf_counter() - started)
