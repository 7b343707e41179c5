"""Output files that are the command's own inputs are refused before any work starts: ``image a.jpg --coco-json
a.jpg``, ``video clip.mp4 -o clip.mp4``, ``video clips/ -o clips/``, ``export --weights w -o w`` and ``eval
--results-json`` onto its annotations would each replace an input with their result. Files are compared by identity
(device and inode), so another spelling of the path or a link to the file counts too."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import click

from ..atomic import file_identity

__all__ = ["InputFiles", "refuse_overwriting_inputs"]


class InputFiles:
    """The files a command reads (folders passed as the files found in them), each looked up once, against which
    any number of outputs can be checked."""

    def __init__(self, paths: Iterable[str | Path]) -> None:
        self._read: dict[tuple[int, int], Path] = {}
        for path in paths:
            key = file_identity(Path(path))
            if key is not None:
                self._read.setdefault(key, Path(path))

    def refuse(self, outputs: Iterable[tuple[str, Path | None]]) -> None:
        """Raise :class:`click.UsageError` for the first ``(option, path)`` of ``outputs`` that is one of the inputs;
        an output given as None (not asked for) is skipped."""
        for option, path in outputs:
            key = None if path is None else file_identity(path)
            if key is not None and key in self._read:
                shown = "" if self._read[key] == path else f" (the input {self._read[key]})"
                raise click.UsageError(f"{option} {path} is an input{shown}: writing it would replace the input")


def refuse_overwriting_inputs(inputs: Iterable[str | Path], outputs: Iterable[tuple[str, Path | None]]) -> None:
    """:meth:`InputFiles.refuse` for one set of outputs."""
    InputFiles(inputs).refuse(outputs)
