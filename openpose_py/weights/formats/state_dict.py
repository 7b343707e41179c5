"""PyTorch state_dict files (``.pth``, ``.pt``, ``.ckpt``), read with ``weights_only=True``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ...errors import WeightsError
from . import register_reader

__all__ = ["read_state_dict"]


def read_state_dict(path: Path, companions: Mapping[str, Path]) -> tuple[dict[str, Any], dict[str, str]]:
    import pickle
    import zipfile

    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{path}: not a loadable state_dict (weights_only): {first}") from None
    # training checkpoints wrap the weights: {"state_dict": ..., "optimizer": ...}
    for key in ("state_dict", "model"):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"{path}: holds no state_dict (a mapping of names to tensors)")
    tensors = dict(obj)
    if tensors and all(k.startswith("module.") for k in tensors):  # saved from DataParallel / DDP
        tensors = {k[len("module."):]: v for k, v in tensors.items()}
    return tensors, {}


register_reader("state_dict", (".pth", ".pt", ".ckpt"), read_state_dict)
