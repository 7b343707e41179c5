"""Full training checkpoints: everything needed to continue a run bit for bit.

A checkpoint holds the network, optimiser, learning-rate schedule and gradient-scaler states, the step (which is also
the data position, see :mod:`openpose_py.train.sampling`), the global random-number-generator states and the
configuration as JSON. It is written atomically and read back with ``torch.load(weights_only=True)``: nothing in it
is pickled code.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import atomic_path
from ..errors import WeightsError
from ..weights.formats.state_dict import load_torch_file

__all__ = ["CHECKPOINT_FORMAT", "capture_rng", "restore_rng", "save_checkpoint", "load_checkpoint",
           "is_training_checkpoint"]

#: Marks a file as an openpose_py training checkpoint (as opposed to a bare state dict).
CHECKPOINT_FORMAT = "openpose_py.train/1"


def capture_rng() -> dict[str, Any]:
    """The states of Python's, NumPy's and torch's (CPU and CUDA) global generators, as tensors and plain types."""
    np_state = np.random.get_state()
    state = {
        "python": json.dumps(random.getstate()),
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Undo :func:`capture_rng`."""
    version, internal, gauss = json.loads(state["python"])
    random.setstate((version, tuple(internal), gauss))
    np_state = state["numpy"]
    np.random.set_state(("MT19937", np_state["keys"].numpy().astype(np.uint32), np_state["pos"],
                         np_state["has_gauss"], np_state["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` (plus the format tag) so that ``path`` is always either the previous or the complete new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save({"format": CHECKPOINT_FORMAT, **state}, tmp)


def is_training_checkpoint(path: str | Path) -> bool:
    """Whether ``path`` is a file this module wrote (cheap test on the suffix, then the format tag)."""
    path = Path(path)
    if not path.is_file() or path.suffix == ".safetensors":
        return False
    try:
        data = load_torch_file(path)
    except WeightsError:  # any unreadable file is simply not a checkpoint
        return False
    return isinstance(data, dict) and data.get("format") == CHECKPOINT_FORMAT


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a training checkpoint.

    ``path`` may also be a training output directory, whose ``checkpoint.pt`` is read.

    Raises:
        WeightsError: missing, unreadable, or not a training checkpoint.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    if not path.is_file():
        raise WeightsError(f"no training checkpoint at {path}")
    data = load_torch_file(path, map_location)
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise WeightsError(f"{path} is not an openpose_py training checkpoint")
    return data
