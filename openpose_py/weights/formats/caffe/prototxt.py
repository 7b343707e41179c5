"""Reader for Caffe network definitions (``.prototxt``, protobuf text format) through the schema of
:mod:`openpose_py.weights.formats.caffe.schema`."""

from __future__ import annotations

from pathlib import Path

from google.protobuf import text_format

from ....errors import WeightsError, WeightsNotFoundError
from .schema import NetParameter

__all__ = ["read_prototxt"]


def read_prototxt(path: str | Path) -> NetParameter:
    """Parse a ``.prototxt`` into a ``NetParameter`` message (layers in file order under ``.layer``).

    Raises :class:`WeightsNotFoundError` for a missing file and :class:`WeightsError` for text outside the schema
    subset (the message names the offending line).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WeightsNotFoundError(f"network definition not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WeightsError(f"cannot read network definition {path}: {exc}") from None
    try:
        return text_format.Parse(text, NetParameter())
    except text_format.ParseError as exc:
        raise WeightsError(f"{path} is not a Caffe network definition this reader understands: {exc}") from None
