"""PyTorch files read with weights_only: tensors load; an empty, damaged or non-tensor file is one line naming it."""

from __future__ import annotations

import pickle
from fractions import Fraction
from pathlib import Path

import pytest
import torch

from openpose_py.errors import WeightsError, first_line
from openpose_py.weights.formats.state_dict import load_torch_file, read_state_dict


def _saved(tmp_path: Path) -> Path:
    path = tmp_path / "good.pt"
    torch.save({"state_dict": {"module.conv.weight": torch.ones(2, 3)}, "step": 7}, path)
    return path


def test_tensors_load_and_wrapped_state_dicts_unwrap(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    assert load_torch_file(path)["step"] == 7
    tensors, _ = read_state_dict(path, {})
    assert list(tensors) == ["conv.weight"] and torch.equal(tensors["conv.weight"], torch.ones(2, 3))


def _broken(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.pt"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("not a checkpoint\n")
    elif kind == "cut":
        good = _saved(tmp_path).read_bytes()
        path.write_bytes(good[: len(good) // 2])
    elif kind == "pickle":  # a plain pickle, not written by torch.save
        path.write_bytes(pickle.dumps({"a": 1.5}, protocol=2))
    else:  # torch's format, holding an object weights_only must not build
        torch.save({"a": Fraction(1, 2)}, path)
    return path


@pytest.mark.parametrize("kind, cause", [("empty", "it ends early: empty or cut short"),
                                         ("text", "weights_only refused it: "),
                                         ("cut", "a damaged or cut-short archive: "),
                                         ("pickle", "Invalid magic number"),
                                         ("object", "weights_only refused it: Unsupported global: GLOBAL "
                                                    "fractions.Fraction was not an allowed global by default)")])
def test_unloadable_files_are_one_line(tmp_path: Path, kind: str, cause: str) -> None:
    path = _broken(tmp_path, kind)
    for read in (load_torch_file, lambda p: read_state_dict(p, {})):
        with pytest.raises(WeightsError) as caught:
            read(path)
        message = str(caught.value)
        assert "\n" not in message and len(message) < 300, message
        assert message.startswith(f"{path}: not a PyTorch file that loads with weights_only (") and cause in message


@pytest.mark.parametrize("exc, expected", [(EOFError(), "EOFError"), (ValueError("\n  first\nsecond"), "first"),
                                           (RuntimeError("one line"), "one line")])
def test_first_line_of_an_exception(exc: BaseException, expected: str) -> None:
    assert first_line(exc) == expected
