import numpy as np
import pytest

from openpose_py.multiview import CalibrationError
from openpose_py.multiview.boards import Board, BoardRenderer, cameras_facing, find_corners, synthetic_views
from openpose_py.multiview.calibrate import calibrate_cameras

BOARD = Board(7, 5, 0.03)


@pytest.fixture(scope="module")
def rig():
    cams = cameras_facing(BOARD, 2, 0.7, size=(480, 360), focal=450.0)
    views = synthetic_views(cams, BOARD, per_camera=4, distance=0.5)
    return cams, [[find_corners(v, BOARD) for v in per_cam] for per_cam in views]


def test_rendered_corners_lie_where_the_camera_projects_them(rig):
    cams, corners = rig
    for cam, found in zip(cams, corners):
        truth = cam.project(BOARD.corners.astype(np.float64))  # picture 0: the board at the world origin
        assert np.abs(found[0] - truth).max() < 0.25
    assert [[c is not None for c in found] for found in corners] == [[True] * 5 + [False] * 4,
                                                                     [True] + [False] * 4 + [True] * 4]


def test_calibration_recovers_the_cameras_with_subpixel_error(rig):
    cams, corners = rig
    est, reports = calibrate_cameras(corners, [c.size for c in cams], [c.name for c in cams], BOARD)
    for e, c, r in zip(est, cams, reports):
        assert r.views == 5 and r.intrinsic_rms < 0.2 and r.extrinsic_rms < 0.2
        assert np.abs(e.K - c.K).max() < 0.02 * c.K[0, 0]
        assert np.linalg.norm(e.center - c.center) < 0.01  # within 1 cm at 0.7 m
        # the lens where the boards were seen (the middle of the picture; the corners are not constrained)
        grid = np.stack(np.meshgrid(np.linspace(120, 360, 5), np.linspace(90, 270, 5)), -1).reshape(-1, 2)
        assert np.abs(e.undistort(grid) - c.undistort(grid)).max() < 1.0


def test_calibration_refuses_what_cannot_place_or_fit_the_cameras(rig):
    cams, corners = rig
    names, sizes = [c.name for c in cams], [c.size for c in cams]
    no_shared = [[None] + list(c[1:]) for c in corners]
    with pytest.raises(CalibrationError, match="every camera finds the board"):
        calibrate_cameras(no_shared, sizes, names, BOARD)
    with pytest.raises(CalibrationError, match="picture 2"):
        calibrate_cameras(corners, sizes, names, BOARD, shared_view=2)
    few = [list(corners[0][:2]) + [None] * 7, corners[1]]
    with pytest.raises(CalibrationError, match="2 pictures, 3 or more"):
        calibrate_cameras(few, sizes, names, BOARD)


def test_a_picture_without_the_board_finds_nothing_and_bad_boards_are_refused():
    assert find_corners(np.full((100, 120), 128, np.uint8), BOARD) is None
    with pytest.raises(CalibrationError, match="COLUMNSxROWS"):
        Board.parse("9by6", 0.03)
    with pytest.raises(CalibrationError, match="different number"):
        Board(6, 6, 0.03)
    with pytest.raises(CalibrationError, match="no image size"):
        BoardRenderer(cameras_facing(BOARD, 1, 0.5, size=(0, 0))[0], BOARD)
