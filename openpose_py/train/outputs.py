"""A run's output folder: refused before any work when it cannot be one or already holds another run, started (made,
``config.json`` and ``val_split.json`` written) once every check has passed, and put back as it was found when the
run fails before it wrote a result, so that a failed start never leaves a folder that looks like a run."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..atomic import ensure_writable_dir, file_identity
from ..errors import OutputError
from .metrics import METRICS_NAME

__all__ = ["CHECKPOINT_NAME", "WEIGHTS_NAME", "BEST_WEIGHTS_NAME", "METRICS_NAME", "CONFIG_NAME", "RESULT_NAMES",
           "check_output_dir", "RunStart"]

CHECKPOINT_NAME = "checkpoint.pt"
WEIGHTS_NAME = "weights.safetensors"
BEST_WEIGHTS_NAME = "weights.best.safetensors"
CONFIG_NAME = "config.json"
#: What a run has produced once it has trained or validated: a new run in the same folder would replace or append to
#: them. (``config.json`` alone is not a run: it is where a run starts.)
RESULT_NAMES = (CHECKPOINT_NAME, WEIGHTS_NAME, BEST_WEIGHTS_NAME, METRICS_NAME)


def check_output_dir(directory: Path, resume: str | Path | None = None) -> None:
    """Refuse, before any work and writing nothing, an output folder a run cannot use: a path through a regular file,
    an existing folder that cannot be written, or a folder holding another run's results (:data:`RESULT_NAMES`),
    unless ``resume`` is that run's own checkpoint (or its folder). An absent or empty folder is fine.

    Raises:
        OutputError: one line naming the file in the way, or saying how to continue the run found.
    """
    directory = Path(directory)
    blocker = next((p for p in (directory, *directory.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None or directory.is_dir():
        ensure_writable_dir(directory)  # names the file in the way; in a folder it leaves no probe behind
    found = [name for name in RESULT_NAMES if (directory / name).exists()]
    if not found:
        return
    checkpoint = directory / CHECKPOINT_NAME
    if resume is not None:
        source = Path(resume) / CHECKPOINT_NAME if Path(resume).is_dir() else Path(resume)
        theirs = file_identity(source)
        if theirs is not None and theirs == file_identity(checkpoint):  # this folder's own run
            return
        raise OutputError(f"--output-dir {directory} already holds another training run ({', '.join(found)}); "
                          f"continue {resume} into an empty or new --output-dir")
    how = (f"continue it with --resume {checkpoint}, or choose another --output-dir" if checkpoint.is_file()
           else "choose another --output-dir, or empty this one")
    raise OutputError(f"--output-dir {directory} already holds a training run ({', '.join(found)}); {how}")


class RunStart:
    """What a run writes into its folder before its first result, and the undoing of it.

    Makes ``directory`` (and its missing parents), proving it writable; :meth:`write` writes a start file;
    :meth:`undo` removes the start files that did not exist before and the folders it made, while they are empty.

    Raises:
        OutputError: the folder cannot be made or written to.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._made = [p for p in (self.directory, *self.directory.parents) if not p.exists()]  # deepest first
        self._files: list[Path] = []
        ensure_writable_dir(self.directory)

    def write(self, path: Path, write: Callable[[Path], None]) -> None:
        """``write(path)``; a file that was not there before is removed again by :meth:`undo` (a resumed run's
        ``config.json`` is not)."""
        if not path.exists():
            self._files.append(path)
        write(path)

    @property
    def has_results(self) -> bool:
        """Whether the folder holds a result (:data:`RESULT_NAMES`): then the start files belong with it."""
        return any((self.directory / name).exists() for name in RESULT_NAMES)

    def undo(self) -> None:
        """Remove the new start files and the folders made for them, unless a result has been written since."""
        if self.has_results:
            return
        for path in self._files:
            path.unlink(missing_ok=True)
        self._files = []
        for folder in self._made:
            try:
                folder.rmdir()
            except OSError:  # not empty (tensorboard's files, something of the user's): leave it and its parents
                break
