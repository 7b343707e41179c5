"""A tidy table of tracks for pandas: one row per frame x track x detected keypoint, as CSV or Parquet.

Columns: ``frame`` (source index), ``time`` (seconds), ``track_id``, ``person_score``, ``keypoint`` (name), ``x``,
``y`` (pixels), ``score``. The file is written under a temporary name and appears complete when the run ends (also
after Ctrl-C); a failed run leaves nothing.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from typing import Any

from ...atomic import atomic_path, ensure_writable_dir
from ...errors import OutputError
from ..sources import StreamInfo, frame_time
from .files import FrameResult, FrameSink

__all__ = ["COLUMNS", "TracksTableSink"]

COLUMNS = ("frame", "time", "track_id", "person_score", "keypoint", "x", "y", "score")
_FLUSH_ROWS = 65536  # Parquet rows per row group


class TracksTableSink(FrameSink):
    """Writes the tracks table to ``path``: Parquet if it ends in ``.parquet`` (needs pyarrow), else CSV."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.parquet = self.path.suffix.lower() == ".parquet"
        if self.parquet and importlib.util.find_spec("pyarrow") is None:
            raise OutputError(f"cannot write {self.path}: Parquet needs pyarrow (pip install pyarrow), "
                              "or give a .csv path")
        ensure_writable_dir(self.path.parent)
        self._target: Any = None
        self._tmp: Path | None = None
        self._file: Any = None
        self._writer: Any = None
        self._rows: list[tuple] = []
        self.rows = 0

    def open(self, info: StreamInfo) -> None:
        self._target = atomic_path(self.path)
        self._tmp = self._target.__enter__()
        if not self.parquet:
            self._file = self._tmp.open("w", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow(COLUMNS)

    def write(self, result: FrameResult) -> None:
        frame, stamp = result.frame.index, round(frame_time(result.frame), 6)
        rows = [(frame, stamp, p.track_id, round(p.score, 4), k.name, round(k.x, 2), round(k.y, 2), round(k.score, 4))
                for p in result.people for k in p.keypoints if k is not None]
        self.rows += len(rows)
        if self.parquet:
            self._rows += rows
            if len(self._rows) >= _FLUSH_ROWS:
                self._flush_parquet()
        else:
            self._writer.writerows(rows)

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = list(zip(*self._rows)) if self._rows else [()] * len(COLUMNS)
        types = (pa.int64(), pa.float64(), pa.int64(), pa.float32(), pa.string(), pa.float32(), pa.float32(),
                 pa.float32())
        table = pa.table({name: pa.array(list(col), type=kind) for name, col, kind in zip(COLUMNS, columns, types)})
        if self._writer is None:
            self._writer = pq.ParquetWriter(str(self._tmp), table.schema)
        self._writer.write_table(table)
        self._rows = []

    def close(self, keep: bool = True) -> None:
        if self._target is None:
            return
        target, self._target = self._target, None
        try:
            if self.parquet and keep and (self._rows or self._writer is None):
                self._flush_parquet()
            if self._writer is not None and self.parquet:
                self._writer.close()
            if self._file is not None:
                self._file.close()
        except BaseException as exc:
            target.__exit__(type(exc), exc, exc.__traceback__)
            raise OutputError(f"cannot write {self.path}: {exc}") from exc
        if keep:
            target.__exit__(None, None, None)
        else:
            target.__exit__(OutputError, OutputError("run failed"), None)
