import numpy as np
import pytest

from openpose_py.multiview import CalibrationError, Camera, read_calibration, write_calibration, write_camera_files

from .conftest import ring_cameras


def _same(a: list[Camera], b: list[Camera]) -> bool:
    return len(a) == len(b) and all(x.same_as(y, atol=1e-9) for x, y in zip(a, b))


@pytest.mark.parametrize("suffix", [".toml", ".xml", ".yml", ".yaml"])
def test_every_format_round_trips_the_cameras(tmp_path, suffix):
    cams = ring_cameras(3)
    write_calibration(tmp_path / f"calib{suffix}", cams)
    assert _same(read_calibration(tmp_path / f"calib{suffix}"), cams)


@pytest.mark.parametrize("suffix", [".xml", ".yml"])
def test_a_folder_of_per_camera_files_round_trips(tmp_path, suffix):
    cams = ring_cameras(3)
    paths = write_camera_files(tmp_path, cams, suffix)
    assert [p.name for p in paths] == [f"cam{i}{suffix}" for i in range(3)]
    assert _same(read_calibration(tmp_path), cams)


def test_a_pose2sim_toml_reads_with_four_distortions_and_metadata(tmp_path):
    (tmp_path / "Calib.toml").write_text("""
[cam_01]
name = "cam_01"
size = [ 1920.0, 1080.0]
matrix = [ [ 1206.9, 0.0, 953.8], [ 0.0, 1207.1, 555.8], [ 0.0, 0.0, 1.0]]
distortions = [ -0.048, 0.0647, -0.0004, 0.0003]
rotation = [ 1.68, 0.83, -0.49]
translation = [ 0.68, 0.32, 3.69]
fisheye = false

[metadata]
adjusted = false
error = 0.0
""")
    (cam,) = read_calibration(tmp_path / "Calib.toml")
    assert cam.name == "cam_01" and cam.size == (1920, 1080)
    np.testing.assert_allclose(cam.dist, [-0.048, 0.0647, -0.0004, 0.0003])
    np.testing.assert_allclose(cam.rvec, [1.68, 0.83, -0.49])
    np.testing.assert_allclose(cam.K[0], [1206.9, 0.0, 953.8])


def test_an_openpose_xml_reads_its_3x4_camera_matrix(tmp_path):
    (tmp_path / "17012332.xml").write_text("""<?xml version="1.0"?>
<opencv_storage>
<CameraMatrix type_id="opencv-matrix"><rows>3</rows><cols>4</cols><dt>d</dt>
  <data>1. 0. 0. 0.1 0. 1. 0. 0.2 0. 0. 1. 0.3</data></CameraMatrix>
<Intrinsics type_id="opencv-matrix"><rows>3</rows><cols>3</cols><dt>d</dt>
  <data>800. 0. 320. 0. 800. 240. 0. 0. 1.</data></Intrinsics>
<Distortion type_id="opencv-matrix"><rows>8</rows><cols>1</cols><dt>d</dt>
  <data>-0.2 0.1 0. 0. 0. 0. 0. 0.</data></Distortion>
</opencv_storage>
""")
    (cam,) = read_calibration(tmp_path)
    assert cam.name == "17012332" and cam.dist.size == 8
    np.testing.assert_allclose(cam.R, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(cam.tvec, [0.1, 0.2, 0.3])


@pytest.mark.parametrize("name, text, message", [
    ("c.toml", "[a]\nmatrix = 3", "camera \\[a\\]"),
    ("c.toml", "not toml [", "cannot read"),
    ("c.toml", "[metadata]\nerror = 0.0", "no camera table"),
    ("c.yml", "%YAML:1.0\n---\nfoo: 1\n", "no camera"),
    ("c.xml", "<nope", "cannot read"),
    ("c.json", "{}", "ends in"),
])
def test_bad_calibrations_are_refused_in_one_line(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(CalibrationError, match=message):
        read_calibration(tmp_path / name)


def test_a_missing_file_and_duplicate_names_are_refused(tmp_path):
    with pytest.raises(CalibrationError, match="no such"):
        read_calibration(tmp_path / "absent.toml")
    cam = ring_cameras(1)[0]
    write_calibration(tmp_path / "twice.yml", [cam, cam])
    with pytest.raises(CalibrationError, match="share a name"):
        read_calibration(tmp_path / "twice.yml")
