"""The shared estimator flags: ``--backend`` sets OpenMP's wait policy before torch loads."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import cv2
import numpy as np

from .conftest import LOW, error_of, needs_weights

# Parses the flags of a command built with estimator_options in a fresh interpreter (the policy only matters
# before torch loads, and this pytest process has loaded it) and prints the policy torch was loaded with.
_PROBE = """
import os, sys, click

seen = []  # the policy at the moment torch is first imported


class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" and not seen:
            seen.append(os.environ.get("OMP_WAIT_POLICY"))


sys.meta_path.insert(0, Watch())
from openpose_py.cli.options import estimator_options

@click.command()
@estimator_options
def probe(estimator_options):
    import torch  # as every command does before running a network

    print(seen[0])

probe.main(args=sys.argv[1:], standalone_mode=False)
"""


def _policy_after(args: list[str], env_policy: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if env_policy is not None:
        env["OMP_WAIT_POLICY"] = env_policy
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_cpu_backend_makes_openmp_wait_passively():
    assert _policy_after(["--backend", "onnxruntime"]) == "PASSIVE"
    # the model and decoder flags are checked against registries; given first, they must not load torch before it
    assert _policy_after(["--model", "lightweight", "--decoder", "default", "--backend", "openvino"]) == "PASSIVE"


def test_torch_backend_keeps_the_openmp_default():
    assert _policy_after([]) == "None"
    assert _policy_after(["--backend", "torch"]) == "None"


def test_policy_from_the_environment_wins():
    assert _policy_after(["--backend", "openvino"], env_policy="ACTIVE") == "ACTIVE"


@needs_weights
def test_limit_flags_bound_the_input_and_the_saved_maps(invoke, tmp_path, caplog):
    """Failures 1 and 2 through the CLI: a strip photo runs scaled down to the limits, its maps picture is drawn on
    a grid of at most --max-map-pixels cells, and the user is told both once."""
    strip = tmp_path / "strip.png"
    cv2.imwrite(str(strip), np.full((50, 8000, 3), 90, np.uint8))
    with caplog.at_level(logging.WARNING, logger="openpose_py"):
        result = invoke("image", strip, *LOW, "--max-input-side", "1024", "--max-input-pixels", str(1024 * 64),
                        "--max-map-pixels", "5000", "--save-maps", tmp_path / "maps")
    assert result.exit_code == 0, result.output
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "an image of 8000x50 pixels would need a 25600x160 network input; it is scaled down to 1024x6 (limits: "
        "1024 px a side, 65536 px in all), so small people in it may be missed",
        "maps of an image of 8000x50 pixels are returned on a 894x5 grid, not per image pixel (at most 5000 cells, "
        "InputLimits.max_map_pixels)"]
    assert cv2.imread(str(tmp_path / "maps" / "strip_maps.jpg")).shape == (5, 2 * 894, 3)
    result = invoke("image", strip, "--max-input-side", "4096", "--max-input-pixels", "1000")
    assert result.exit_code == 2
    assert error_of(result) == "Error: --max-input-pixels must be at least --max-input-side x 16 = 65536, got 1000"
