"""Atomic output files and the probing of output directories."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from openpose_py.errors import OutputError
from openpose_py.atomic import claim_tempfile, ensure_writable_dir, remove_unclaimed
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


def test_a_claimed_temporary_is_removed_only_once_its_process_is_gone(tmp_path):
    # a real second process claims a temporary, as a video sink does, and is then killed outright (no clean-up runs)
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from openpose_py.atomic import claim_tempfile; "
        f"path, fd = claim_tempfile(Path({str(tmp_path)!r}), '.clip.', '.mp4'); "
        "print(path.name, flush=True); time.sleep(120)")], stdout=subprocess.PIPE, text=True)
    try:
        name = child.stdout.readline().strip()
        assert name.startswith(".clip.") and name.endswith(".mp4")
        remove_unclaimed([tmp_path / name])
        assert (tmp_path / name).exists(), "a live process's file in progress stays"
    finally:
        child.kill()
        child.wait(timeout=60)
        child.stdout.close()
    remove_unclaimed([tmp_path / name, tmp_path / "absent.mp4"])
    assert file_names(tmp_path) == [], "the killed process's temporary is removed"
    # in this process too: a claim is held until its descriptor is closed
    path, fd = claim_tempfile(tmp_path, ".x.", ".tmp")
    remove_unclaimed([path])
    assert path.exists()
    os.close(fd)
    remove_unclaimed([path])
    assert not path.exists()
