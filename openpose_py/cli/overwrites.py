"""Output files that are the command's own inputs are refused before any work starts: ``image a.jpg --coco-json
a.jpg``, ``video clip.mp4 -o clip.mp4``, ``video clips/ -o clips/``, ``export --weights w -o w`` and ``eval
--results-json`` onto its annotations would each replace an input with their result. Files are compared by identity
(device and inode), so another spelling of the path or a link to the file counts too."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import click

__all__ = ["refuse_overwriting_inputs"]


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:  # absent (nothing to overwrite) or unreachable (the command's own checks say so)
        return None
    return st.st_dev, st.st_ino


def refuse_overwriting_inputs(inputs: Iterable[str | Path], outputs: Iterable[tuple[str, Path | None]]) -> None:
    """Raise :class:`click.UsageError` for the first ``(option, path)`` of ``outputs`` that is one of ``inputs``.

    ``inputs`` are files the command reads (folders are passed as the files found in them); an output given as None
    (not asked for) is skipped."""
    read: dict[tuple[int, int], Path] = {}
    for path in inputs:
        key = _identity(Path(path))
        if key is not None:
            read.setdefault(key, Path(path))
    for option, path in outputs:
        key = None if path is None else _identity(path)
        if key is not None and key in read:
            shown = "" if read[key] == path else f" (the input {read[key]})"
            raise click.UsageError(f"{option} {path} is an input{shown}: writing it would replace the input")
