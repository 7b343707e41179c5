"""Atomic output files: a temporary name in the target directory, then ``os.replace``, so a reader never sees half a
file; and output directories probed for writability before any work starts. Every file the package writes (outputs,
exports, weights, checkpoints) goes through :func:`atomic_path`."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import OutputError

__all__ = ["ensure_writable_dir", "atomic_path", "publish_file", "write_bytes_atomic"]


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
