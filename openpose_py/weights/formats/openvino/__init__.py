"""OpenVINO IR (``.xml`` + ``.bin``): the reader (:mod:`.ir`, no ``openvino`` package needed) and the hpe-0001
tables (:mod:`.hpe0001`); registers the ``openvino_ir`` format and the IR-name key layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .. import register_key_adapter, register_reader
from .hpe0001 import hpe0001_state_dict_from_ir_names, is_hpe0001_ir_names
from .ir import read_ir

__all__ = ["read_ir_tensors"]


def read_ir_tensors(path: Path, companions: Mapping[str, Path]) -> tuple[dict[str, Any], dict[str, str]]:
    """Float32 tensors of an IR keyed by IR layer names (its ``.bin`` among ``companions`` or beside it)."""
    bins = [p for p in companions.values() if p.suffix.lower() == ".bin"]
    return read_ir(path, bins[0] if bins else None).tensors, {}


def _hpe0001_ir_names(tensors: Mapping[str, Any], source: str) -> tuple[dict[str, Any], str] | None:
    if not is_hpe0001_ir_names(tensors):
        return None
    return hpe0001_state_dict_from_ir_names(tensors, source), "lightweight"


register_reader("openvino_ir", (".xml",), read_ir_tensors)
register_key_adapter(_hpe0001_ir_names)
