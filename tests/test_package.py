"""Importing the package: OpenMP's wait policy is made passive before torch loads, and the import stays light."""

from __future__ import annotations

import os
import subprocess
import sys

# Runs in a fresh interpreter (the policy only matters before torch loads, and this pytest process has loaded it):
# prints the policy torch was loaded with, and whether importing the package alone loaded torch.
_PROBE = """
import os, sys

seen = []  # the policy at the moment torch is first imported


class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" and not seen:
            seen.append(os.environ.get("OMP_WAIT_POLICY"))


sys.meta_path.insert(0, Watch())
if sys.argv[1:] == ["torch-first"]:
    import torch
import openpose_py
from openpose_py.cli.options import BACKEND_NAMES
from openpose_py.weights import get_spec, resolve
light = "torch" not in sys.modules
get_spec("lightweight")
import torch  # as every command does before running a network

print(seen[0], light)
"""


def _probe(*args: str, env_policy: str | None = None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if env_policy is not None:
        env["OMP_WAIT_POLICY"] = env_policy
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_importing_the_package_makes_openmp_wait_passively_and_loads_no_torch():
    assert _probe() == ["PASSIVE", "True"]


def test_policy_from_the_environment_wins():
    assert _probe(env_policy="ACTIVE") == ["ACTIVE", "True"]


def test_torch_loaded_first_keeps_its_policy():
    # too late to change what OpenMP read; the package must not pretend otherwise
    assert _probe("torch-first") == ["None", "False"]
