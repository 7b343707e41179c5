"""Weights: what each registered network is (:mod:`.spec`, :mod:`.catalogue`; its codec travels in the files'
metadata, :mod:`.metadata`), where its files are (:mod:`.places`,
:mod:`.store`), how they are fetched (:mod:`.download`), read (:mod:`.formats`) and loaded into a network
(:mod:`.load`, :mod:`.shapes`).

Importing this package is cheap (no torch): the registry, the places and the file search load eagerly; reading and
loading, which need torch, load on first use.
"""

from __future__ import annotations

from typing import Any

from . import catalogue  # noqa: F401  (registers the built-in entries)
from .download import download
from .places import (
    ENV_CACHE_DIR, ENV_OFFLINE, ENV_WEIGHTS_DIR, cache_dir, converted_path, is_offline, sha256_file, shipped_dir,
    weights_dir,
)
from .metadata import SPEC_METADATA_KEY, spec_from_json, spec_to_json
from .registry import get_spec, list_specs, lookup, register_weights
from .spec import PreprocessSpec, WeightsSource, WeightsSpec
from .store import LocalFile, find_local, is_present, resolve

__all__ = [
    "WeightsSource", "WeightsSpec", "PreprocessSpec", "register_weights", "get_spec", "lookup", "list_specs",
    "ENV_WEIGHTS_DIR", "ENV_CACHE_DIR", "ENV_OFFLINE", "SPEC_METADATA_KEY",
    "weights_dir", "shipped_dir", "cache_dir", "is_offline", "sha256_file", "LocalFile", "find_local", "is_present",
    "converted_path", "resolve", "download", "read_weights", "load_model", "save_weights", "import_weights",
    "spec_to_json", "spec_from_json", "register_reader", "register_key_adapter",
]

_LAZY = {
    "read_weights": ".load", "load_model": ".load", "save_weights": ".load", "import_weights": ".load",
    "register_reader": ".formats", "register_key_adapter": ".formats",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
