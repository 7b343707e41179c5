import numpy as np
import pytest

from openpose_py.multiview import CalibrationError, Camera
from openpose_py.multiview.camera import fundamental_matrix

from .conftest import BODY, ring_cameras


def test_undistort_inverts_the_lens_onto_the_pinhole_projection(cameras):
    cam = cameras[1]
    grid = np.stack(np.meshgrid(np.linspace(-0.6, 0.6, 7), np.linspace(-0.45, 0.45, 5)), -1).reshape(-1, 2)
    points = (np.c_[grid, np.ones(len(grid))] * 3.0) @ cam.R + cam.center  # across the picture, 3 m away
    observed = cam.project(points)
    assert np.abs(observed - cam.project_pinhole(points)).max() > 10.0  # the lens does move the points
    np.testing.assert_allclose(cam.undistort(observed), cam.project_pinhole(points), atol=1e-6)


def test_undistort_keeps_missing_points_missing_and_is_identity_without_distortion():
    cam = ring_cameras(1, distortion=(0, 0, 0, 0, 0))[0]
    pts = np.array([[10.0, 20.0], [np.nan, np.nan]])
    out = cam.undistort(pts)
    np.testing.assert_array_equal(out[0], pts[0])
    assert np.isnan(out[1]).all()
    with_lens = ring_cameras(1)[0]
    assert np.isnan(with_lens.undistort(pts)[1]).all()


def test_a_point_behind_the_camera_projects_to_nan(cameras):
    cam = cameras[0]
    assert np.isnan(cam.project(2 * cam.center - np.array([0.0, -0.9, 0.0]))).all()


def test_the_fundamental_matrix_holds_for_corresponding_points(cameras):
    a, b = cameras[0], cameras[2]
    xa = np.c_[a.project_pinhole(BODY), np.ones(len(BODY))]
    xb = np.c_[b.project_pinhole(BODY), np.ones(len(BODY))]
    F = fundamental_matrix(a, b)
    lines = xa @ F.T
    assert np.abs((lines * xb).sum(1) / np.linalg.norm(lines[:, :2], axis=1)).max() < 1e-6


@pytest.mark.parametrize("kwargs, message", [
    ({"K": np.eye(3) * -1}, "positive focal"),
    ({"K": [[1, 0, 0], [0, 1, 0]]}, "needs 9 numbers"),
    ({"K": np.eye(3), "dist": [0.1, 0.2, 0.3]}, "4, 5 or 8"),
    ({"K": np.eye(3), "tvec": [0, np.nan, 0]}, "NaN"),
])
def test_bad_cameras_are_refused_in_one_line(kwargs, message):
    with pytest.raises(CalibrationError, match=message):
        Camera("c", **kwargs)


def test_a_non_rotation_is_refused():
    with pytest.raises(CalibrationError, match="not a rotation"):
        Camera.from_rotation_matrix("c", np.eye(3), (), np.eye(3) * 2, np.zeros(3))
