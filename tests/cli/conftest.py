"""Fixtures for driving ``openpose-py`` in-process (click's CliRunner) and as the installed console script."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner, Result

from openpose_py.cli import cli

from ..conftest import SHARED
WEIGHTS = Path(os.environ.get("OPENPOSE_PY_WEIGHTS_DIR") or SHARED / "weights")
MEDIA = SHARED / "data" / "openpose-media"
SELFIE = SHARED / "data" / "videos" / "selfie_upper_body.mp4"
FIVE_FRAMES = SHARED / "data" / "videos" / "five_frames_960x540.mp4"
# a low network height keeps the real network cheap on CI's two cores; the code path is the same as at 368
LOW = ("--height", "160", "--threads", "2")

# skipped without ../shared (an error under CI=true): tests/conftest.py, require_shared
needs_weights = pytest.mark.shared("weights/hpe-0001", "data/openpose-media")
needs_videos = pytest.mark.shared("data/videos")


@pytest.fixture
def cli_env(monkeypatch) -> dict[str, str]:
    """Environment the commands run in: offline, the shipped default model (no weights folder variable), and the
    session's private cache (which the top-level conftest already points $OPENPOSE_PY_CACHE_DIR at)."""
    monkeypatch.delenv("OPENPOSE_PY_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("OPENPOSE_PY_OFFLINE", "1")
    return dict(os.environ)


@pytest.fixture
def invoke(cli_env):
    """Run ``openpose-py ARGS`` in-process; returns click's Result (stdout and stderr kept apart)."""

    def run(*args: str | Path) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)

    return run


class Console:
    """The installed ``openpose-py`` console script, run in a subprocess with the test environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.exe = shutil.which("openpose-py") or str(Path(sys.executable).parent / "openpose-py")
        self.env = env

    def argv(self, *args: str | Path) -> list[str]:
        return [self.exe, *map(str, args)]

    def __call__(self, *args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args), capture_output=True, text=True, env=self.env, timeout=timeout)


def finish_or_dump(proc: subprocess.Popen, timeout: float) -> tuple[str, str]:
    """``proc.communicate(timeout)``; a process still running then is aborted and the test fails with the stacks of
    its threads (start it with ``PYTHONFAULTHANDLER=1``), which say where it hung."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        _, err = proc.communicate(timeout=60)
        pytest.fail(f"the process did not exit within {timeout} s; its threads when aborted:\n{err[-8000:]}")


@pytest.fixture
def console(cli_env) -> Console:
    return Console(cli_env)


def files_under(directory: Path) -> list[str]:
    """Relative paths of every file below ``directory`` (hidden temporaries included), sorted."""
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def error_of(result: Result) -> str:
    """The one-line message the user sees for a failed in-process run: click's usage text or the library error."""
    if result.exit_code == 2:
        return result.stderr.strip().splitlines()[-1]
    assert result.exception is not None and not isinstance(result.exception, SystemExit), result.output
    message = str(result.exception)
    assert "\n" not in message, f"error message is not one line: {message!r}"
    return message


@pytest.fixture
def small_disk(tmp_path, lightweight_estimator):
    """A factory of folders where writing runs out of room: ``small_disk(size, file_limit)`` mounts a tmpfs of
    ``size`` bytes (a full disk, ENOSPC) when this user may, else limits the size of every file the console script
    writes to ``file_limit`` (RLIMIT_FSIZE, EFBIG). Returns (folder, preexec_fn for the subprocess or None). The
    estimator fixture fills the weights cache first, so the limited process has nothing large to convert."""
    mounts: list[Path] = []

    def make(size: int, file_limit: int) -> tuple[Path, Callable[[], None] | None]:
        folder = tmp_path / f"small{len(mounts)}"
        folder.mkdir()
        if os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                                                 str(folder)], capture_output=True).returncode == 0:
            mounts.append(folder)
            return folder, None

        def limit() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

        return folder, limit

    yield make
    for folder in mounts:
        subprocess.run(["umount", str(folder)], check=True)
