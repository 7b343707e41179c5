"""SIGTERM and SIGHUP stop a command like Ctrl-C, and a deferred block (a publication) is never cut in half; real
signals to a real process (the video CLI's own signal runs are in test_video.py)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import os, signal, sys
from openpose_py.cli import signals
signals.install()
for sig in (signal.SIGTERM, signal.SIGINT):
    try:
        with signals.deferred():
            os.kill(os.getpid(), sig)
            for _ in range(10**6):  # bytecodes at which a plain handler would have raised
                pass
            print("block finished", flush=True)
        print("not stopped", flush=True)
    except KeyboardInterrupt as exc:
        print(type(exc).__name__, exc.signum, signals.exit_status(), flush=True)
        signals._received = None  # let the second signal through too
os.kill(os.getpid(), signal.SIGHUP)
"""


def test_a_signal_in_a_deferred_block_takes_effect_when_it_ends_and_sets_the_exit_status():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines() == ["block finished", "Terminated 15 143", "block finished", "Terminated 2 130"]
    assert "Terminated: SIGHUP" in done.stderr and done.returncode == 1, "an uncaught SIGHUP raises in the script"
