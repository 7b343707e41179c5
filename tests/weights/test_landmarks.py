import pytest

from openpose_py.errors import ChecksumError, WeightsNotFoundError
from openpose_py.weights.landmarks import LANDMARK_WEIGHTS, landmark_path
from openpose_py.weights.places import sha256_file


def test_the_landmark_networks_ship_with_the_package_and_match_their_entries():
    for name, entry in LANDMARK_WEIGHTS.items():
        path = landmark_path(name, allow_download=False)
        assert path.name == entry.filename and path.stat().st_size == entry.size
        assert sha256_file(path) == entry.sha256
        assert entry.license == "Apache-2.0" and entry.url.startswith("https://storage.googleapis.com/mediapipe-")
        assert entry.wheel_member in entry.wheel and "0.10.21" in entry.wheel


def test_a_missing_or_corrupt_copy_is_reported(tmp_path, monkeypatch):
    with pytest.raises(WeightsNotFoundError, match="unknown landmark network"):
        landmark_path("feet")
    monkeypatch.setattr("openpose_py.weights.landmarks.shipped_dir", lambda: None)
    with pytest.raises(WeightsNotFoundError, match="storage.googleapis.com.*mediapipe==0.10.21 wheel"):
        landmark_path("face")
    (tmp_path / "face_landmark.tflite").write_bytes(b"not a network")
    monkeypatch.setenv("OPENPOSE_PY_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(ChecksumError, match="does not have the sha256"):
        landmark_path("face")
