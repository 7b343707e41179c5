"""How one input of a collection run writes its outputs: under hidden staging names until the input is done, then
published whole (each output replacing an earlier run's), or discarded; and which inputs a resumed run skips.

>>> from pathlib import Path
>>> final = Outputs((Path("json/clip"), Path("rendered/clip.mp4")))
>>> [str(p) for p in final.staged().present]
['json/.clip.partial', 'rendered/.clip.partial.mp4']

An API user's collection run (what ``openpose-py video clips/ --json-dir json/ --skip-existing`` does)::

    failures = FailureLog("failed.jsonl")
    for video in pending(videos, lambda v: Outputs((json_dir / v.stem,)), skip_existing=True):
        final = Outputs((json_dir / video.stem,))
        stage = final.open_staged()          # leftovers of a stopped run removed, folders checked writable
        try:
            write_everything(video, *stage.paths)
        except Exception as exc:
            stage.discard()                  # an earlier run's outputs stay
            failures.add(video, str(exc))
        else:
            stage.publish_as(final)
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from ..atomic import ensure_writable_dir

__all__ = ["Outputs", "staging_name", "pending"]

T = TypeVar("T")


def staging_name(final: Path) -> Path:
    """The hidden name an output is written under until its whole input is done."""
    return final.with_name(f".{final.stem}.partial{final.suffix}")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where one input writes: a file or folder per kind of output, in a fixed order (None: not asked for)."""

    paths: tuple[Path | None, ...]

    @property
    def present(self) -> list[Path]:
        """The outputs asked for."""
        return [p for p in self.paths if p is not None]

    def exist(self, exists: Callable[[Path], bool] = Path.exists) -> bool:
        """Whether an earlier run wrote every output asked for (False when none is asked for)."""
        return bool(self.present) and all(exists(p) for p in self.present)

    def staged(self) -> "Outputs":
        """The same outputs under their staging names."""
        return Outputs(tuple(None if p is None else staging_name(p) for p in self.paths))

    def open_staged(self) -> "Outputs":
        """The staged outputs, ready to write: a stopped run's leftovers removed, their folders checked writable."""
        stage = self.staged()
        stage.discard()
        for path in stage.present:
            ensure_writable_dir(path.parent)
        return stage

    def discard(self) -> None:
        """Remove these outputs (files or folders) where they exist."""
        for path in self.present:
            _remove(path)

    def publish_as(self, final: "Outputs") -> None:
        """Move these (staged) outputs onto ``final``'s names, replacing an earlier run's; the first output last (a
        resumed run that finds it finds the others)."""
        for staged, path in reversed(list(zip(self.present, final.present))):
            if path.is_dir():
                shutil.rmtree(path)
            staged.replace(path)


def pending(items: Sequence[T], outputs_of: Callable[[T], Outputs], skip_existing: bool,
            exists: Callable[[Path], bool] = Path.exists) -> list[T]:
    """The items a run must do: all of them, or (``skip_existing``) those whose outputs are not all there yet."""
    return [item for item in items if not (skip_existing and outputs_of(item).exist(exists))]
