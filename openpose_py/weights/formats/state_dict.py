"""PyTorch state_dict files (``.pth``, ``.pt``, ``.ckpt``), read with ``weights_only=True``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ...errors import WeightsError, first_line
from . import register_reader

__all__ = ["read_state_dict", "load_torch_file"]

_REFUSED = "WeightsUnpickler error:"


def load_torch_file(path: Path, map_location: Any = "cpu") -> Any:
    """``torch.load(path, weights_only=True)``: a file of tensors, loaded without running any code it holds.

    Raises:
        WeightsError: the file cannot be loaded that way (not a PyTorch file, empty or cut short, or holding objects
            other than tensors and plain containers), in one line that names the file.
    """
    import warnings

    import torch

    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols of files it then refuses anyway
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a bad file; the user needs one line
        raise WeightsError(f"{path}: not a PyTorch file that loads with weights_only ({_why(exc)})") from None


def _why(exc: BaseException) -> str:
    """The cause of a failed weights-only load, short: torch's refusal carries its reason on a line after a long
    preamble about the weights_only default, its reasons and a damaged archive's message run on with advice for
    programmers (the first sentence is kept), and an empty file gives an EOFError without a message."""
    if isinstance(exc, EOFError):
        return "it ends early: empty or cut short"
    text = str(exc)
    if _REFUSED in text:
        detail = [line.strip() for line in text.split(_REFUSED, 1)[1].splitlines() if line.strip()]
        return "weights_only refused it" + (f": {detail[0].split('. ', 1)[0]}" if detail else "")
    if "PytorchStreamReader" in text:
        return f"a damaged or cut-short archive: {first_line(exc).split('. ', 1)[0]}"
    return first_line(exc)


def read_state_dict(path: Path, companions: Mapping[str, Path]) -> tuple[dict[str, Any], dict[str, str]]:
    import torch

    obj = load_torch_file(path)
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
