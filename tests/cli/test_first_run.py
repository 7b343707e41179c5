"""A newcomer's first commands: every --help and every argument or path error answers before torch is imported
(torch alone takes seconds to load), so a typo costs a fraction of a second."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Runs each command line in one fresh interpreter; prints, per line, its exit status and whether torch was loaded.
_PROBE = """
import json, sys
from openpose_py.cli import cli, main

commands = json.loads(sys.argv[1])
out = []
for argv in commands:
    try:
        main(argv)
        status = 0
    except SystemExit as exc:
        status = exc.code
    out.append([status, "torch" in sys.modules])
print(json.dumps(out))
"""


def test_help_and_argument_errors_load_no_torch(tmp_path):
    from openpose_py.cli import _COMMANDS

    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not checked: the output name is refused first")
    commands = [["--help"], *[[name, "--help"] for name in _COMMANDS],
                ["image", str(tmp_path / "no-such.jpg")],
                ["image", str(tmp_path), "--model", "no-such-model"],
                ["image", str(tmp_path), "--decoder", "no-such-preset"],
                ["video", str(tmp_path / "no-such.mp4"), "--json-dir", str(tmp_path / "out")],
                ["video", str(video), "--output", str(tmp_path / "out.txt")],
                ["webcam", "--camera", str(tmp_path / "no-such.mp4"), "--no-display", "--json-dir", str(tmp_path)],
                ["eval", "--images", str(tmp_path / "no-such"), "--annotations", str(video)]]
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(commands)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for argv, (status, torch_loaded) in zip(commands, results):
        assert status == (0 if "--help" in argv else 1 if argv[0] == "webcam" else 2), (argv, done.stderr)
        assert not torch_loaded, f"openpose-py {' '.join(argv)} imported torch"
    assert list((tmp_path).glob("out*")) == [], "no output folder for a run that never started"


def test_a_run_leaves_no_openvino_telemetry_in_an_empty_home(tmp_path, cli_env):
    """Failure: importing openvino wrote a client id and usage counts (~/intel/openvino_ga_cid, ~/intel/stats)."""
    import shutil

    import cv2
    import numpy as np

    home = tmp_path / "home"
    home.mkdir()
    cv2.imwrite(str(tmp_path / "grey.png"), np.full((48, 64, 3), 90, np.uint8))
    env = {k: v for k, v in cli_env.items() if k not in ("CI", "TF_BUILD", "JENKINS_URL")}  # CI turns it off itself
    env["HOME"] = str(home)
    exe = shutil.which("openpose-py") or str(Path(sys.executable).parent / "openpose-py")
    done = subprocess.run([exe, "image", str(tmp_path / "grey.png"), "--backend", "openvino", "--height", "160",
                           "--threads", "2"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not (home / "intel").exists(), sorted(p.name for p in (home / "intel").rglob("*"))
