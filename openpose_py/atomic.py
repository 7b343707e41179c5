"""Atomic output files: a temporary name in the target directory, then ``os.replace``, so a reader never sees half a
file; and output directories probed for writability before any work starts. Every file the package writes (outputs,
exports, weights, checkpoints) goes through :func:`atomic_path`, or, for a long write whose temporary a killed
process would leave behind, through :func:`claim_tempfile`, whose leftovers :func:`remove_unclaimed` can tell from
another process's work in progress."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

try:
    import fcntl
except ImportError:  # Windows: a file that is open cannot be deleted there, which protects it all the same
    fcntl = None  # type: ignore[assignment]

from .errors import OutputError

__all__ = ["ensure_writable_dir", "atomic_path", "publish_file", "write_bytes_atomic", "claim_tempfile",
           "remove_unclaimed", "file_identity"]


def file_identity(path: str | Path) -> tuple[int, int] | None:
    """(device, inode) of the file at ``path``, whatever name or link reaches it; None when there is none (absent or
    unreachable): two paths with one identity are one file."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def ensure_writable_dir(directory: str | Path) -> Path:
    """Create ``directory`` if needed and prove a file can be created in it, or raise :class:`OutputError`."""
    directory = Path(directory)
    blocker = next((p for p in (directory, *directory.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputError(f"cannot write to output directory {directory}: {blocker} is a file, not a folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".openpose-py-probe-"):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write to output directory {directory}: {exc.strerror or exc}") from exc
    return directory


def _file_mode() -> int:
    """Permissions of a new ordinary file under the process umask (mkstemp's 0600 would hide outputs from others)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


def publish_file(tmp: str | Path, path: Path) -> None:
    """Give a finished temporary file ordinary permissions and move it onto ``path`` in one step."""
    os.chmod(tmp, _FILE_MODE)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary file beside ``path`` for the block to write; when the block succeeds it becomes ``path`` (with
    ordinary permissions), when it fails it is removed, so ``path`` is always untouched or complete."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        publish_file(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory, or raise :class:`OutputError`."""
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def claim_tempfile(directory: Path, prefix: str, suffix: str) -> tuple[Path, int]:
    """A new temporary file (``mkstemp``) and a descriptor that holds an exclusive lock on it until it is closed or
    the process dies; close it when the file is published or deleted. While it is held, :func:`remove_unclaimed`
    leaves the file alone."""
    while True:
        fd, name = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=suffix)
        if fcntl is None:
            return Path(name), fd
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:  # another process's clean-up may have removed the name between mkstemp and the lock: take a new one
            if os.stat(name).st_ino == os.fstat(fd).st_ino:
                return Path(name), fd
        except FileNotFoundError:
            pass
        os.close(fd)


def remove_unclaimed(paths: Iterable[Path]) -> None:
    """Delete those of ``paths`` whose :func:`claim_tempfile` lock nobody holds: the temporaries of processes that
    were killed (SIGKILL, a lost node) before they could delete them. Another process's file in progress stays."""
    for path in paths:
        if fcntl is None:
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path.unlink(missing_ok=True)
        except OSError:  # BlockingIOError: a live process holds it
            pass
        finally:
            os.close(fd)
