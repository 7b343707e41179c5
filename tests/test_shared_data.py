"""The tests' own contract with ../shared: a fresh clone skips what needs it, CI never passes by skipping."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import REPO_ROOT


def test_under_ci_a_missing_shared_folder_is_an_error_not_a_skip(tmp_path):
    test = "tests/weights/formats/test_prototxt.py::test_official_definition"  # needs one shared file, nothing else
    env = {**os.environ, "CI": "true", "OPENPOSE_PY_SHARED": str(tmp_path / "no-shared")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout[-2000:]
    assert "1 error" in done.stdout and "skipped" not in done.stdout
    assert f"needs the shared test data (weights/cmu-openpose-prototxt/coco/pose_deploy_linevec.prototxt) under " \
           f"{tmp_path / 'no-shared'}" in done.stdout
