import numpy as np
import pytest

from openpose_py.multiview.triangulation import TriangulationConfig, refine, reproject, triangulate_points, weighted_dlt

from .conftest import BODY


@pytest.fixture(scope="module")
def P(cameras):
    return np.stack([c.P for c in cameras])


def test_weighted_dlt_is_exact_on_consistent_views(P):
    x, _ = reproject(P, BODY)
    np.testing.assert_allclose(weighted_dlt(P, x, np.full(x.shape[:2], 0.7)), BODY, atol=1e-9)


def test_weighted_dlt_is_the_closed_form_weighted_least_squares_solution(P):
    """On inconsistent views the weighted DLT is the unit vector minimising |W A X|: the eigenvector of the smallest
    eigenvalue of A^T W^2 A, computed here in closed form."""
    rng = np.random.default_rng(1)
    X = BODY[3]
    x, _ = reproject(P, X)
    x = x + rng.normal(scale=3.0, size=x.shape)
    w = rng.uniform(0.2, 1.0, size=len(P))
    rows = np.concatenate([x[:, :1] * P[:, 2] - P[:, 0], x[:, 1:] * P[:, 2] - P[:, 1]])  # (2V, 4)
    W2 = np.diag(np.r_[w, w] ** 2)
    _, vecs = np.linalg.eigh(rows.T @ W2 @ rows)
    expected = vecs[:3, 0] / vecs[3, 0]
    np.testing.assert_allclose(weighted_dlt(P, x, w), expected, atol=1e-9)
    assert not np.allclose(weighted_dlt(P, x, np.ones(len(P))), expected, atol=1e-6)  # the weights matter


def test_a_view_with_zero_weight_is_ignored_and_one_view_is_not_enough(P):
    x, _ = reproject(P, BODY[0])
    x[2] += 100.0
    w = np.ones(len(P))
    w[2] = 0.0
    np.testing.assert_allclose(weighted_dlt(P, x, w), BODY[0], atol=1e-9)
    w[:] = 0.0
    w[1] = 1.0
    assert np.isnan(weighted_dlt(P, x, w)).all()


def test_refinement_lowers_the_reprojection_error_below_the_dlt(P):
    rng = np.random.default_rng(2)
    x, _ = reproject(P, BODY)
    x = x + rng.normal(scale=2.0, size=x.shape)
    w = np.ones(x.shape[:2])
    X0 = weighted_dlt(P, x, w)
    X1 = refine(P, X0, x, w, steps=5)
    cost = lambda X: (np.linalg.norm(reproject(P, X)[0] - x, axis=-1) ** 2).sum(-1)  # noqa: E731
    assert (cost(X1) <= cost(X0) + 1e-9).all() and cost(X1).sum() < cost(X0).sum()


def test_outliers_and_a_swapped_view_are_left_out_per_keypoint(P, cameras):
    rng = np.random.default_rng(3)
    x, _ = reproject(P, BODY)  # (18, V, 2)
    x = x + rng.normal(scale=0.5, size=x.shape)
    c = np.full(x.shape[:2], 0.8)
    x[:, 1] = x[[0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16], 1]  # view 1: left and right swapped
    x[4, 3] += (80.0, -60.0)  # an outlier in view 3
    x[9, 0] = (5.0, 5.0)
    c[10, 4] = 0.0  # not seen in view 4
    tri = triangulate_points(P, x, c, TriangulationConfig(threshold=5.0))  # the swapped eyes are ~10 px apart
    assert np.linalg.norm(tri.points - BODY, axis=1).max() < 0.01
    assert not tri.inliers[4, 3] and not tri.inliers[9, 0] and not tri.inliers[10, 4]
    assert not tri.inliers[[2, 3, 4, 5, 6, 7], 1].any() and tri.inliers[[0, 1], 1].all()  # midline points agree
    dlt = weighted_dlt(P, x, c)
    assert np.linalg.norm(dlt - BODY, axis=1).max() > 0.05  # without view selection the swap spoils the points


def test_a_point_needs_min_views_that_agree(P):
    x, _ = reproject(P, BODY[:2])
    c = np.zeros(x.shape[:2])
    c[:, :2] = 1.0
    assert np.isfinite(triangulate_points(P, x, c).points).all()
    assert np.isnan(triangulate_points(P, x, c, TriangulationConfig(min_views=3)).points).all()
    c[1, 1] = 0.0
    tri = triangulate_points(P, x, c)
    assert np.isnan(tri.points[1]).all() and tri.score[1] == 0.0 and np.isnan(tri.error[1])


@pytest.mark.parametrize("kwargs", [{"threshold": 0}, {"threshold": np.nan}, {"min_views": 1}, {"refine_steps": -1}])
def test_bad_configurations_are_refused(kwargs):
    with pytest.raises(ValueError):
        TriangulationConfig(**kwargs)
