"""Atomic output files and the probing of output directories."""

from __future__ import annotations

import pytest

from openpose_py.errors import OutputError
from openpose_py.atomic import ensure_writable_dir
from openpose_py.results import write_openpose_json

from .video.conftest import file_names


def test_json_writing_is_atomic_and_reports_unwritable_places(tmp_path):
    write_openpose_json(tmp_path / "a.json", {"version": 1.3, "people": [], "x": [0.0, 1e-7, 123456789.0, 2]})
    assert (tmp_path / "a.json").read_text() == '{"version":1.3,"people":[],"x":[0,1e-07,1.23457e+08,2]}'
    assert file_names(tmp_path) == ["a.json"], "no temporary file is left behind"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write to output directory"):
        ensure_writable_dir(blocker / "sub")
    # a regular file in the way is named, not reported as "File exists" or "Not a directory"
    for place in (blocker, blocker / "sub" / "deeper"):
        with pytest.raises(OutputError, match=f"^cannot write to output directory {place}: {blocker} is a file, "
                                              "not a folder$"):
            ensure_writable_dir(place)
