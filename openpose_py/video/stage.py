"""What the pipeline can be given to run on each frame's results between the estimator and the sinks (tracking is
one: :class:`openpose_py.track.stream.TrackingStage`). The pipeline calls it in the calling thread, in frame order,
and imports nothing of what implements it."""

from __future__ import annotations

from typing import Protocol

from .sinks import FrameResult
from .sources import StreamInfo

__all__ = ["ResultStage"]


class ResultStage(Protocol):
    """A step over each frame's results: ``open`` once with the source's info, then each result in frame order
    (what comes out may come later, several at once), then ``flush`` for what it still holds at the end."""

    def open(self, info: StreamInfo) -> None: ...

    def __call__(self, result: FrameResult) -> list[FrameResult]: ...

    def flush(self) -> list[FrameResult]: ...
