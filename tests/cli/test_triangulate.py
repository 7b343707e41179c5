"""``openpose-py triangulate`` on a tiny synthetic scene: per-camera JSON folders in, 3-D JSON and TRC out."""

import json

import numpy as np
import pytest

from openpose_py.multiview import write_calibration
from openpose_py.results import openpose_json, people_from_array, write_openpose_json

from ..multiview.conftest import SKELETON, detections, people_at, ring_cameras
from .conftest import FIVE_FRAMES, LOW, error_of, needs_weights


@pytest.fixture
def scene(tmp_path):
    cameras = ring_cameras(4)
    write_calibration(tmp_path / "calib.toml", cameras)
    dirs = [tmp_path / cam.name for cam in cameras]
    truths = []
    for f in range(3):
        truth = people_at([(0.1 * f, 0.0), (1.3, 0.5)])
        truths.append(truth)
        for d, view in zip(dirs, detections(truth, cameras, seed=f)):
            d.mkdir(exist_ok=True)
            order = [1, 0] if f == 1 else [0, 1]
            write_openpose_json(d / f"clip_{f:012d}_keypoints.json", openpose_json(people_from_array(view[order], SKELETON)))
    return tmp_path, dirs, truths


def test_triangulate_writes_3d_json_per_frame_and_a_trc_per_person(invoke, scene):
    root, dirs, truths = scene
    out = root / "out"
    result = invoke("triangulate", "--calibration", root / "calib.toml", "--json-dir", out, "--fps", "25",
                    *reversed(dirs))  # folders named after the cameras: matched by name, not by order
    assert result.exit_code == 0, result.output
    assert "3 frames, 6 people in 3-D, 2 tracks" in result.output
    assert sorted(p.name for p in out.iterdir()) == [f"{f:012d}_keypoints.json" for f in range(3)] + [
        "person_0.trc", "person_1.trc"]
    ids = []
    for f in range(3):
        people = json.loads((out / f"{f:012d}_keypoints.json").read_text())["people"]
        for entry in people:
            xyz = np.array(entry["pose_keypoints_3d"]).reshape(18, 4)[:, :3]
            err = [np.abs(xyz - t).max() for t in truths[f]]
            ids.append((int(np.argmin(err)), entry["person_id"][0]))
            assert min(err) < 1e-3
    assert len(set(ids)) == 2  # each true person keeps one id
    trc = (out / "person_0.trc").read_text().split("\n")
    assert trc[2].split("\t")[:5] == ["25", "25", "3", "18", "m"]


def test_triangulate_errors_are_one_line(invoke, scene, tmp_path):
    root, dirs, _ = scene
    (root / "bad.toml").write_text("[metadata]\n")
    result = invoke("triangulate", "--calibration", root / "bad.toml", "--json-dir", root / "o", *dirs)
    assert result.exit_code == 1 and "no camera table" in error_of(result)
    result = invoke("triangulate", "--calibration", root / "calib.toml", "--json-dir", root / "some", *dirs[:3])
    assert result.exit_code == 0, result.output  # folders named after cameras: any subset of them
    other = [tmp_path / f"x{i}" for i in range(3)]
    for d in other:
        d.mkdir()
    result = invoke("triangulate", "--calibration", root / "calib.toml", "--json-dir", root / "o", *other)
    assert result.exit_code == 1 and "3 camera sources for the 4 cameras" in error_of(result)
    assert not (root / "o").exists() or not any((root / "o").iterdir())
    result = invoke("triangulate", "--calibration", root / "calib.toml", "--json-dir", dirs[1], *dirs)
    assert result.exit_code == 1 and "an output folder is one of the camera sources" in error_of(result)


def test_calibrate_writes_a_calibration_that_triangulate_reads(invoke, tmp_path):
    import cv2

    from openpose_py.multiview import read_calibration
    from openpose_py.multiview.boards import Board, cameras_facing, synthetic_views

    board = Board(7, 5, 0.03)
    cams = cameras_facing(board, 2, 0.7, size=(480, 360), focal=450.0)
    for cam, pictures in zip(cams, synthetic_views(cams, board, per_camera=3, distance=0.5)):
        (tmp_path / cam.name).mkdir()
        for i, picture in enumerate(pictures):
            cv2.imwrite(str(tmp_path / cam.name / f"{i:03d}.png"), picture)
    result = invoke("calibrate", "--board", "7x5", "--square", "0.03", "--output", tmp_path / "calib.yml",
                    tmp_path / "cam0", tmp_path / "cam1")
    assert result.exit_code == 0, result.output
    assert "cam0: 4 views, RMS reprojection error 0.0" in result.output
    found = read_calibration(tmp_path / "calib.yml")
    assert [c.name for c in found] == ["cam0", "cam1"]
    assert all(np.linalg.norm(f.center - c.center) < 0.01 for f, c in zip(found, cams))
    result = invoke("calibrate", "--board", "7x5", "--square", "0.03", "--output", tmp_path / "c.toml",
                    tmp_path / "cam0", tmp_path / "calib.yml")
    assert result.exit_code == 1 and "not a folder of images nor a readable video" in error_of(result)


@needs_weights
def test_triangulate_runs_the_estimator_on_synchronized_videos(invoke, tmp_path):
    """Two rectified cameras 0.2 m apart (one picture shifted 108 px, every point 108 px of disparity; 4 network
    strides at --height 160, so both pictures meet the same grid): the people the estimator finds in 2-D come out in
    3-D, at the depth f * baseline / disparity."""
    import cv2

    from openpose_py.multiview import Camera

    capture = cv2.VideoCapture(str(FIVE_FRAMES))
    frames = []
    while len(frames) < 3:
        ok, frame = capture.read()
        assert ok
        frames.append(frame)
    capture.release()
    h, w = frames[0].shape[:2]
    for name, shift in (("left", 0), ("right", -108)):
        writer = cv2.VideoWriter(str(tmp_path / f"{name}.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (w, h))
        for frame in frames:
            writer.write(cv2.warpAffine(frame, np.float32([[1, 0, shift], [0, 1, 0]]), (w, h)))
        writer.release()
    K = [[800.0, 0, w / 2], [0, 800.0, h / 2], [0, 0, 1]]
    write_calibration(tmp_path / "stereo.toml", [Camera("left", K, (), (0, 0, 0), (0, 0, 0), (w, h)),
                                                 Camera("right", K, (), (0, 0, 0), (-0.2, 0, 0), (w, h))])
    out = tmp_path / "out"
    result = invoke("triangulate", "--calibration", tmp_path / "stereo.toml", "--json-dir", out, *LOW,
                    tmp_path / "right.avi", tmp_path / "left.avi")
    assert result.exit_code == 0, result.output
    docs = [json.loads((out / f"{f:012d}_keypoints.json").read_text()) for f in range(3)]
    people = [np.array(p["pose_keypoints_3d"]).reshape(-1, 4) for d in docs for p in d["people"]]
    assert people, "the estimator found people in 2-D; they should come out in 3-D"
    depths = np.concatenate([p[p[:, 3] > 0, 2] for p in people])
    assert np.median(depths) == pytest.approx(800.0 * 0.2 / 108, rel=0.02)
    # MJPG and the picture's edge move some points: nearly all within 15%, none wildly off
    close = np.abs(depths / (800.0 * 0.2 / 108) - 1.0) < 0.15
    assert close.mean() >= 0.95, depths[~close]
    assert np.abs(depths / (800.0 * 0.2 / 108) - 1.0).max() < 0.5, depths
    assert (out / "person_0.trc").read_text().split("\n")[2].split("\t")[0] == "10"  # the videos' rate
