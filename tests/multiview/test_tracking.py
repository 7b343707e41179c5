import numpy as np
import pytest

from openpose_py.multiview import Person3D
from openpose_py.multiview.tracking import Tracker3D, Tracker3DConfig
from openpose_py.track import SmoothingConfig

from .conftest import SKELETON, people_at


def _people(truth, order):
    return [Person3D(truth[i], np.ones(18), SKELETON) for i in order]


def test_ids_follow_people_in_any_order_and_a_newcomer_gets_a_new_id():
    tracker = Tracker3D()
    ids = {}
    for f in range(6):
        truth = people_at([(0.05 * f, 0.0), (1.5, 0.03 * f)])
        order = [1, 0] if f % 2 else [0, 1]
        out = tracker.update(_people(truth, order), f / 30)
        for i, p in zip(order, out):
            assert ids.setdefault(i, p.track_id) == p.track_id
    assert sorted(ids.values()) == [0, 1]
    truth = people_at([(0.3, 0.0), (1.5, 0.18), (-2.0, 0.0)])
    assert [p.track_id for p in tracker.update(_people(truth, [2, 0, 1]), 6 / 30)] == [2, 0, 1]


def test_a_track_ends_after_max_age_and_smoothing_keeps_points_near():
    tracker = Tracker3D(Tracker3DConfig(max_age=0.1, smoothing=SmoothingConfig(1.0, 0.5)))
    truth = people_at([(0.0, 0.0)])
    first = tracker.update(_people(truth, [0]), 0.0)[0]
    rng = np.random.default_rng(0)
    noisy = truth + rng.normal(scale=0.01, size=truth.shape)
    second = tracker.update(_people(noisy, [0]), 1 / 30)[0]
    assert second.track_id == first.track_id
    assert np.abs(second.points - truth[0]).mean() < np.abs(noisy[0] - truth[0]).mean()  # smoothed toward the past
    assert tracker.update(_people(truth, [0]), 1.0)[0].track_id == first.track_id + 1


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError):
        Tracker3DConfig(max_distance=0)
