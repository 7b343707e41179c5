"""The One-Euro filter (Casiez, Roussel and Vogel, CHI 2012), vectorised over keypoints and driven by timestamps.

Each coordinate is low-pass filtered with a cutoff that rises with the speed of the point: slow points (jitter) are
smoothed hard, fast points follow with little lag. The speed is the norm of the filtered 2-D velocity of each
keypoint, so both coordinates of a point share one cutoff. A keypoint that is missing and comes back restarts from
its new position instead of sliding from a stale one. Confidences are not filtered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..checks import check_all

__all__ = ["SmoothingConfig", "FilterState", "empty_state", "smooth", "OneEuroFilter"]


@dataclass(frozen=True, slots=True)
class SmoothingConfig:
    """One-Euro parameters.

    The defaults halve the frame-to-frame acceleration of the keypoints of a real selfie video while a point moving
    at a steady 1 pixel per frame (30 frames/s) or faster lags by less than a frame (docs/benchmarks.md).

    Attributes:
        min_cutoff: cutoff frequency (Hz) of a still point; lower smooths more (and lags more when slow).
        beta: cutoff increase per pixel/second of speed; higher lags less on fast moves.
        d_cutoff: cutoff frequency (Hz) of the velocity estimate that drives the adaptive cutoff.
    """

    min_cutoff: float = 0.5
    beta: float = 0.1
    d_cutoff: float = 0.2

    def __post_init__(self) -> None:
        cutoffs = [(math.isfinite(v := getattr(self, name)) and v > 0,
                    f"SmoothingConfig.{name} must be a positive number, got {v}")
                   for name in ("min_cutoff", "d_cutoff")]
        check_all([*cutoffs, (math.isfinite(self.beta) and self.beta >= 0,
                              f"SmoothingConfig.beta must be >= 0, got {self.beta}")])


class FilterState(NamedTuple):
    """Filter memory for points of shape (..., 2): last output, last filtered velocity (pixels/s), its time, and
    whether the point was present then (else it restarts)."""

    x: np.ndarray  # (..., 2)
    dx: np.ndarray  # (..., 2)
    t: np.ndarray  # (...,)
    alive: np.ndarray  # (...,) bool


def empty_state(shape: tuple[int, ...]) -> FilterState:
    """A state for points of leading shape ``shape`` (e.g. (K,) or (N, K)) that have never been seen."""
    return FilterState(np.zeros((*shape, 2)), np.zeros((*shape, 2)), np.zeros(shape), np.zeros(shape, dtype=bool))


def _alpha(cutoff: np.ndarray | float, dt: np.ndarray) -> np.ndarray:
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff))
    return 1.0 / (1.0 + tau / dt)


def smooth(state: FilterState, x: np.ndarray, present: np.ndarray, t: float,
           config: SmoothingConfig) -> tuple[np.ndarray, FilterState]:
    """One filter step at time ``t`` (seconds) for points ``x`` (..., 2) of which ``present`` (...) exist.

    Returns the filtered positions (a present point that was absent last time comes back unfiltered, a missing point
    keeps its input value) and the new state. ``t`` must be later than the state's time for points that continue.
    """
    dt = np.maximum(t - state.t, 1e-6)
    keep = present & state.alive
    dx = (x - state.x) / dt[..., None]
    a_d = _alpha(config.d_cutoff, dt)[..., None]
    dx_hat = a_d * dx + (1.0 - a_d) * state.dx
    cutoff = config.min_cutoff + config.beta * np.hypot(dx_hat[..., 0], dx_hat[..., 1])
    a = _alpha(cutoff, dt)[..., None]
    x_hat = a * x + (1.0 - a) * state.x
    out = np.where(keep[..., None], x_hat, x)
    new = FilterState(
        x=np.where(present[..., None], out, state.x),
        dx=np.where(keep[..., None], dx_hat, 0.0),
        t=np.where(present, t, state.t),
        alive=present.copy(),
    )
    return out, new


class OneEuroFilter:
    """A stateful One-Euro filter for one stream of points (e.g. the K keypoints of one person).

    >>> f = OneEuroFilter((17,))  # doctest: +SKIP
    >>> smoothed = f(xy, present, timestamp)  # doctest: +SKIP
    """

    def __init__(self, shape: tuple[int, ...], config: SmoothingConfig = SmoothingConfig()) -> None:
        self.config = config
        self.shape = tuple(shape)
        self.state = empty_state(self.shape)

    def __call__(self, x: np.ndarray, present: np.ndarray | None, t: float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if present is None:
            present = np.ones(self.shape, dtype=bool)
        out, self.state = smooth(self.state, x, np.asarray(present, dtype=bool), float(t), self.config)
        return out

    def reset(self) -> None:
        self.state = empty_state(self.shape)
