"""The shared estimator flags: ``--backend`` sets OpenMP's wait policy before torch loads."""

from __future__ import annotations

import os
import subprocess
import sys

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
