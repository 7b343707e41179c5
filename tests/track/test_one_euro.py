"""The One-Euro filter: lag on a constant-speed point, real (irregular) timestamps, restart of a returning point."""

from __future__ import annotations

import numpy as np
import pytest

from openpose_py.track import OneEuroFilter, SmoothingConfig, TrackerConfig


@pytest.mark.parametrize("speed", [3.0, 10.0])
def test_a_point_at_constant_speed_lags_by_less_than_one_frame_of_motion(speed):
    f = OneEuroFilter((1,))
    out = [f(np.array([[speed * i, 5.0]]), None, i / 30.0)[0] for i in range(90)]
    lag = speed * 89 - out[-1][0]
    assert 0 < lag < speed and out[-1][1] == pytest.approx(5.0)


def test_timestamps_drive_the_filter_not_the_call_count():
    """The same motion sampled at 30 and at 60 frames/s (irregularly) ends at nearly the same smoothed point."""
    config = SmoothingConfig(min_cutoff=1.0, beta=0.0)
    coarse, fine = OneEuroFilter((1,), config), OneEuroFilter((1,), config)
    for i in range(31):
        a = coarse(np.array([[100.0 * np.sin(i / 30.0), 0.0]]), None, i / 30.0)
    times = np.sort(np.random.default_rng(0).uniform(0, 1, 58))
    for t in [0.0, *times, 1.0]:
        b = fine(np.array([[100.0 * np.sin(t), 0.0]]), None, t)
    assert abs(a[0, 0] - b[0, 0]) < 1.5, (a, b)


def test_a_vanished_point_restarts_at_its_new_position_and_the_others_keep_filtering():
    f = OneEuroFilter((2,), SmoothingConfig(min_cutoff=0.5, beta=0.0))
    for i in range(10):
        f(np.array([[0.0, 0.0], [0.0, 0.0]]), None, i / 30)
    f(np.array([[9.0, 9.0], [50.0, 50.0]]), np.array([True, False]), 10 / 30)
    out = f(np.array([[50.0, 50.0], [50.0, 50.0]]), None, 11 / 30)
    assert out[1].tolist() == [50.0, 50.0], "returning point: no slide from its stale position"
    assert 0.0 < out[0, 0] < 50.0, "continuing point: filtered"


def test_the_cli_defaults_are_the_library_defaults():
    from openpose_py.cli.tracking import TrackingOptions

    opts, config = TrackingOptions(), SmoothingConfig()
    assert (opts.smooth_min_cutoff, opts.smooth_beta, opts.smooth_d_cutoff) == (
        config.min_cutoff, config.beta, config.d_cutoff)
    tracker = TrackerConfig()
    assert (opts.track_max_age, opts.track_reid_time, opts.track_min_hits, opts.track_max_gap) == (
        tracker.max_age, tracker.reid_time, tracker.min_hits, tracker.max_gap)
