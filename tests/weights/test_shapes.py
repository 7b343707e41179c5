"""The one shape check: tensors fit an entry's network exactly or are refused in one line naming the differences;
weights with NaN or infinite values are refused."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from openpose_py import weights as W
from openpose_py.errors import ArchitectureMismatchError, WeightsError
from openpose_py.models import create
from openpose_py.weights.shapes import check_finite, check_fits, non_finite_tensors


def test_tensors_fit_or_the_differences_are_named():
    spec = dataclasses.replace(W.get_spec("lightweight"), name="tiny", aliases=(), arch_kwargs=(("width", 0.125),))
    state = create("lightweight", width=0.125).state_dict()
    check_fits(state, spec, "tiny.pth")
    first = next(iter(state))
    broken = {**{k: v for k, v in state.items() if k != first}, "extra.weight": torch.zeros(1)}
    with pytest.raises(ArchitectureMismatchError, match=rf"^tiny.pth: expected the {len(state)} tensors of tiny "
                                                        rf"\(lightweight, COCO_18\), found {len(state)}: 1 missing "
                                                        rf"\(e.g. {first}\), 1 unexpected \(e.g. extra.weight\)$"):
        check_fits(broken, spec, "tiny.pth")


def test_non_finite_weights_are_found_and_refused():
    tensors = {"a": torch.zeros(2), "b": torch.tensor([1.0, float("inf")]), "steps": torch.tensor([3])}
    assert non_finite_tensors(tensors) == ["b"] and non_finite_tensors({"steps": torch.tensor([1])}) == []
    with pytest.raises(WeightsError, match=r"^run.pt: 1 of 3 tensors hold NaN or infinite values \(the first: b\)"):
        check_finite(tensors, "run.pt")
