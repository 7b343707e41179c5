"""SIGTERM and SIGHUP (what ``timeout``, ``docker stop``, systemd, Slurm and torchrun send) handled like Ctrl-C:
the first of them raises :class:`Terminated`, a KeyboardInterrupt, in the main thread, so a run stops the same clean
way (finished frames published, the video closed and playable); later ones are ignored while it cleans up. The
command then exits with ``128 + signal number`` (143 for SIGTERM, 129 for SIGHUP, 130 for Ctrl-C)."""

from __future__ import annotations

import contextlib
import signal
import threading
from types import FrameType
from typing import Iterator

from ..runs.context import STOP_SIGNALS

__all__ = ["Terminated", "install", "exit_status", "stopping", "deferred"]

_received: int | None = None
_deferring = False
_pending: int | None = None


class Terminated(KeyboardInterrupt):
    """Raised in the main thread by Ctrl-C, SIGTERM or SIGHUP (once :func:`install` ran, or in a :func:`deferred`
    block)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _handle(signum: int, frame: FrameType | None) -> None:
    global _received, _pending
    if _received is not None:
        return  # already stopping: let the clean-up finish (a supervisor's SIGKILL follows if it must)
    if _deferring:
        _pending = _pending or signum
        return
    _received = signum
    raise Terminated(signum)


def install() -> None:
    """Route Ctrl-C, SIGTERM and SIGHUP to :class:`Terminated` (only possible from the main thread; a no-op
    elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in STOP_SIGNALS:
        signal.signal(sig, _handle)


def exit_status() -> int:
    """The exit status of a run that was stopped: 128 + the signal that stopped it (SIGINT when none was caught)."""
    return 128 + (_received if _received is not None else int(signal.SIGINT))


def stopping() -> bool:
    """Whether a stop signal has arrived (a run that completed while it was finishing its outputs stops after it)."""
    return _received is not None


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP during the block (a publication that must not be cut in half): one that
    arrives meanwhile is remembered and raised as :class:`Terminated` when the block ends. (Blocking the signals
    would not do: the runtimes' own threads would take them.)"""
    global _deferring, _pending, _received
    if threading.current_thread() is not threading.main_thread() or _deferring:
        yield
        return
    previous = signal.signal(signal.SIGINT, _handle)
    _deferring = True
    try:
        yield
    finally:
        _deferring = False
        signal.signal(signal.SIGINT, previous)
        if _pending is not None:
            _received, _pending = _pending, None
            raise Terminated(_received)
