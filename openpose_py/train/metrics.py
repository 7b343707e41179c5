"""Where training metrics go: rank 0's ``metrics.jsonl`` and, optionally, TensorBoard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..atomic import write_bytes_atomic
from .config import TrainConfigError

__all__ = ["METRICS_NAME", "MetricsSink", "write_json"]

METRICS_NAME = "metrics.jsonl"


class MetricsSink:
    """Rank 0's JSONL file, and TensorBoard when asked for."""

    def __init__(self, output_dir: Path, tensorboard: bool) -> None:
        self.path = output_dir / METRICS_NAME
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as exc:
                raise TrainConfigError("TensorBoard logging needs the tensorboard package: "
                                       "pip install 'openpose-py[tensorboard]'") from exc
            self._tb = SummaryWriter(str(output_dir / "tensorboard"))

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        if self._tb is not None:
            for key, value in record.items():
                if key != "step" and isinstance(value, (int, float)):
                    self._tb.add_scalar(key, value, record["step"])
            self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON at ``path``, atomically (:class:`OutputError` when it cannot be written)."""
    write_bytes_atomic(path, json.dumps(data, indent=2).encode())
