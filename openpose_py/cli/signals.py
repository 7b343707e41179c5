"""SIGTERM and SIGHUP (what ``timeout``, ``docker stop``, systemd, Slurm and torchrun send) handled like Ctrl-C:
the signal raises :class:`Terminated`, a KeyboardInterrupt, in the main thread, so a run stops the same clean way
(finished frames published, the video closed and playable); the command then exits with ``128 + signal number``
(143 for SIGTERM, 129 for SIGHUP, 130 for Ctrl-C)."""

from __future__ import annotations

import signal
import threading
from types import FrameType

__all__ = ["Terminated", "install", "exit_status"]

_HANDLED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
_received: int | None = None


class Terminated(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM or SIGHUP."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _handle(signum: int, frame: FrameType | None) -> None:
    global _received
    if _received is not None:
        return  # already stopping: let the clean-up finish (a supervisor's SIGKILL follows if it must)
    _received = signum
    raise Terminated(signum)


def install() -> None:
    """Route SIGTERM and SIGHUP to :class:`Terminated` (only possible from the main thread; a no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in _HANDLED:
        signal.signal(sig, _handle)


def exit_status() -> int:
    """The exit status of a run that was stopped: 128 + the signal that stopped it (SIGINT when none was caught)."""
    return 128 + (_received if _received is not None else int(signal.SIGINT))
