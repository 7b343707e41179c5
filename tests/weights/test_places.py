"""Where weights live: the folder variables, the offline switch, and the recorded hashes of cached files."""

from __future__ import annotations

import pytest

from openpose_py import weights as W
from openpose_py.errors import WeightsError
from openpose_py.weights.places import matches_record, record_converted


def test_the_variables(tmp_path, monkeypatch):
    monkeypatch.delenv(W.ENV_WEIGHTS_DIR, raising=False)
    assert W.weights_dir() is None
    monkeypatch.setenv(W.ENV_WEIGHTS_DIR, str(tmp_path))
    assert W.weights_dir() == tmp_path
    (tmp_path / "a_file").write_text("")
    for value, what in ((tmp_path / "a_file", "a file, not a directory"), (tmp_path / "absent", "no such directory")):
        monkeypatch.setenv(W.ENV_WEIGHTS_DIR, str(value))
        with pytest.raises(WeightsError, match=f"={value}: {what}; point it at the folder"):
            W.weights_dir()
    monkeypatch.setenv(W.ENV_CACHE_DIR, str(tmp_path / "cache"))
    assert W.cache_dir() == tmp_path / "cache" and W.converted_path("ab").parent == tmp_path / "cache" / "converted"
    for value, offline in (("", False), ("0", False), ("no", False), ("1", True), ("yes", True)):
        monkeypatch.setenv(W.ENV_OFFLINE, value)
        assert W.is_offline() is offline


def test_a_cached_file_matches_its_record_until_it_changes(tmp_path, caplog):
    path = tmp_path / "export.onnx"
    assert not matches_record(path, "export")
    path.write_bytes(b"network")
    assert not matches_record(path, "export")  # no record yet
    record_converted(path)
    assert matches_record(path, "export")
    path.write_bytes(b"netw0rk")
    with caplog.at_level("WARNING"):
        assert not matches_record(path, "export")
    assert "ignoring corrupt export" in caplog.text
