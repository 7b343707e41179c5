"""safetensors files: read (tensors and string metadata) and write atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ...atomic import atomic_path
from ...errors import OutputError, WeightsError
from . import register_reader

__all__ = ["read_safetensors", "write_safetensors"]


def read_safetensors(path: Path, companions: Mapping[str, Path]) -> tuple[dict[str, Any], dict[str, str]]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            metadata = dict(fh.metadata() or {})
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from None
    return tensors, metadata


def write_safetensors(path: Path, tensors: Mapping[str, Any], metadata: Mapping[str, str]) -> Path:
    """Write ``tensors`` with string ``metadata`` to ``path`` atomically (folders created); returns the path.

    Raises :class:`OutputError` (one line) when it cannot be written; nothing partial is left behind."""
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, suffix=".part") as tmp:
            # clone: safetensors refuses tensors sharing storage; contiguous CPU copies are what it writes anyway
            save_file({k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}, str(tmp),
                      metadata=dict(metadata))
    except (OSError, SafetensorError) as exc:  # a full disk or a file size limit reaches us as either
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise OutputError(f"cannot write {path}: {reason}") from None
    return path


register_reader("safetensors", (".safetensors",), read_safetensors)
