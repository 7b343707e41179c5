"""Foreign weights formats, one module each, and the registry that maps a format to its reader.

A reader turns a file (and its companions, such as an IR's ``.bin``) into ``(tensors, string metadata)``; a key
adapter recognises a foreign key layout and renames it into module keys. Built-in formats register themselves when
this package is imported: safetensors, torch state_dicts, OpenVINO IR, Caffe models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from ...errors import WeightsError

__all__ = ["Reader", "KeyAdapter", "register_reader", "register_key_adapter", "reader_for", "key_adapters",
           "format_of"]

#: format -> (file suffixes, reader(path, companions) -> (tensors, metadata))
Reader = Callable[[Path, Mapping[str, Path]], tuple[dict[str, Any], dict[str, str]]]
_READERS: dict[str, tuple[tuple[str, ...], Reader]] = {}
#: functions recognising a foreign key layout: (tensors, source) -> (renamed tensors, spec name) or None
KeyAdapter = Callable[[Mapping[str, Any], str], tuple[dict[str, Any], str] | None]
_KEY_ADAPTERS: list[KeyAdapter] = []


def register_reader(fmt: str, suffixes: tuple[str, ...], reader: Reader) -> None:
    """Teach :func:`read_weights` a file format (``suffixes`` like ``(".caffemodel",)``, lower case)."""
    _READERS[fmt] = (suffixes, reader)


def register_key_adapter(adapter: KeyAdapter) -> None:
    """Teach :func:`read_weights` a foreign key layout (e.g. Caffe layer names) to rename into module keys.

    The adapter returns None when it does not recognise the keys, else (renamed tensors, registered spec name).
    """
    _KEY_ADAPTERS.append(adapter)


def reader_for(fmt: str) -> Reader:
    """The reader registered for ``fmt``."""
    if fmt not in _READERS:
        raise WeightsError(f"no reader for weights format {fmt!r} (its importer is not installed)")
    return _READERS[fmt][1]


def key_adapters() -> tuple[KeyAdapter, ...]:
    """The registered key adapters, in registration order."""
    return tuple(_KEY_ADAPTERS)


def format_of(path: Path, fmt: str | None = None) -> str:
    if fmt is not None:
        return fmt
    suffix = path.suffix.lower()
    for name, (suffixes, _) in _READERS.items():
        if suffix in suffixes:
            return name
    known = ", ".join(s for suffixes, _ in _READERS.values() for s in suffixes)
    raise WeightsError(f"{path}: unknown weights format {suffix or '(no suffix)'!r}; known: {known}")


from . import caffe, openvino, safetensors_file, state_dict  # noqa: E402,F401  (register the built-in formats)
