"""Caffe: the protobuf schema subset (:mod:`.schema`), trained models (:mod:`.model`) and network definitions
(:mod:`.prototxt`); registers the ``caffemodel`` format."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .. import register_reader

__all__ = ["read_caffemodel_tensors"]


def read_caffemodel_tensors(path: Path, companions: Mapping[str, Path]) -> tuple[dict[str, Any], dict[str, str]]:
    """A ``.caffemodel`` as module keys: the CMU networks name their modules after the Caffe layers."""
    from .model import load_caffemodel

    return load_caffemodel(path)[0], {}


register_reader("caffemodel", (".caffemodel",), read_caffemodel_tensors)
