import numpy as np
import pytest

from openpose_py.multiview import MultiviewConfig, triangulate
from openpose_py.results import people_from_array

from .conftest import SKELETON, detections, people_at

FLIP = list(SKELETON.flip_keypoints)


def _errors(truth, people):
    """Per true person, the mean keypoint error of the closest 3-D person (and that person's index)."""
    found = np.stack([p.points for p in people])
    d = np.nanmean(np.linalg.norm(truth[:, None] - found[None], axis=-1), axis=-1)
    return d.min(axis=1), d.argmin(axis=1)


def test_three_people_shuffled_swapped_and_missing_in_views_are_all_found_once(cameras):
    truth = people_at([(0.0, 0.0), (1.2, 0.6), (-1.0, -0.8)], turn=0.4)
    views = detections(truth, cameras, noise=0.5)
    views[1][2] = views[1][2][FLIP]  # a left/right swap
    views[2] = views[2][[0, 2]]  # person 1 missed
    views[3] = views[3][[2, 0, 1]]  # shuffled
    views[4] = views[4][[1, 2, 0]]
    views[0][0, 4, :2] += 70.0  # an outlier point
    people = triangulate(views, cameras, skeleton=SKELETON)
    assert len(people) == 3
    err, which = _errors(truth, people)
    assert sorted(which) == [0, 1, 2] and err.max() < 0.01
    by_truth = {int(w): people[w] for w in which}
    assert len(by_truth[1].views) == 4 and (1, 2) in by_truth[2].views  # the swapped view is used, un-swapped
    assert all(p.present.all() and p.scores.max() == pytest.approx(0.9) for p in people)


def test_people_objects_and_arrays_give_the_same_result(cameras):
    views = detections(people_at([(0.0, 0.0), (1.0, 1.0)]), cameras)
    from_arrays = triangulate(views, cameras, skeleton=SKELETON)
    from_people = triangulate([people_from_array(v, SKELETON) for v in views], cameras)
    assert len(from_arrays) == len(from_people) == 2
    for a, b in zip(from_arrays, from_people):
        np.testing.assert_allclose(a.points, b.points, atol=1e-5)  # Person.as_array is float32


def test_nobody_is_invented_from_one_view_or_from_nothing(cameras):
    truth = people_at([(0.0, 0.0)])
    views = [np.zeros((0, 18, 3)) for _ in cameras]
    views[0] = detections(truth, cameras)[0]  # a person only one camera sees
    assert triangulate(views, cameras, skeleton=SKELETON) == []
    assert triangulate([[] for _ in cameras], cameras) == []


def test_json_values_of_a_person(cameras):
    views = detections(people_at([(0.0, 0.0)]), cameras)
    views[0][0, 0, 2] = views[1][0, 0, 2] = views[2][0, 0, 2] = views[3][0, 0, 2] = 0.0  # the nose in one view only
    (person,) = triangulate(views, cameras, skeleton=SKELETON)
    flat = person.pose_keypoints_3d()
    assert len(flat) == 4 * 18 and flat[:4] == [0, 0, 0, 0] and flat[7] == pytest.approx(0.9)


def test_the_inputs_are_checked(cameras):
    with pytest.raises(ValueError, match="3 views of people for 5 cameras"):
        triangulate([[]] * 3, cameras)
    with pytest.raises(ValueError, match="needs a skeleton"):
        triangulate([np.zeros((1, 18, 3))] + [np.zeros((0, 18, 3))] * 4, cameras)
    with pytest.raises(ValueError, match="match_threshold"):
        MultiviewConfig(match_threshold=-1)
