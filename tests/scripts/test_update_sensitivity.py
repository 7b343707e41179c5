"""scripts/update_sensitivity.py: points along an update and random updates of the same size, tensor by tensor."""

from __future__ import annotations

import pytest
import torch

from .conftest import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("update_sensitivity")


def _states() -> tuple[dict, dict]:
    g = torch.Generator().manual_seed(0)
    start = {"conv.weight": torch.randn(4, 3, 3, 3, generator=g), "conv.bias": torch.randn(4, generator=g),
             "frozen.weight": torch.randn(5, 5, generator=g), "bn.num_batches_tracked": torch.tensor(7)}
    tuned = {**start, "conv.weight": start["conv.weight"] + 0.01 * torch.randn(4, 3, 3, 3, generator=g),
             "conv.bias": start["conv.bias"] + torch.tensor([0.5, 0.0, 0.0, 0.0])}
    return start, tuned


def test_along_the_update_runs_from_the_start_to_the_tuned_weights(script) -> None:
    start, tuned = _states()
    for fraction, expected in ((0.0, start), (1.0, tuned)):
        point = script.along(start, tuned, fraction)
        assert all(torch.allclose(point[k].float(), expected[k].float()) for k in start)
    half = script.along(start, tuned, 0.5)
    assert torch.allclose(half["conv.bias"], start["conv.bias"] + torch.tensor([0.25, 0.0, 0.0, 0.0]))
    assert half["bn.num_batches_tracked"] == 7
    assert script.update_norm(start, half) == pytest.approx(script.update_norm(start, tuned) / 2, rel=1e-5)


def test_a_random_update_has_each_tensors_own_size_and_leaves_frozen_ones_alone(script) -> None:
    start, tuned = _states()
    moved = script.random_update(start, tuned, seed=3)
    for k in ("conv.weight", "conv.bias"):
        step = moved[k] - start[k]
        assert float(step.norm()) == pytest.approx(float((tuned[k] - start[k]).norm()), rel=1e-5)
        assert not torch.allclose(step, tuned[k] - start[k])  # same size, another direction
    assert torch.equal(moved["frozen.weight"], start["frozen.weight"])
    assert moved["bn.num_batches_tracked"] == 7
    # the bias update sat on one element; the random one spreads over all four
    assert int((moved["conv.bias"] != start["conv.bias"]).sum()) == 4
    again, other = script.random_update(start, tuned, seed=3), script.random_update(start, tuned, seed=4)
    assert all(torch.equal(again[k], moved[k]) for k in start)
    assert not torch.equal(other["conv.weight"], moved["conv.weight"])


def test_parts_are_the_changed_modules_and_each_takes_only_its_own_update(script) -> None:
    g = torch.Generator().manual_seed(1)
    names = ["stage.1.conv.weight", "stage.1.conv.bias", "stage.10.conv.weight", "stage.2.conv.weight", "head.weight"]
    start = {k: torch.randn(3, generator=g) for k in names} | {"stage.1.bn.num_batches_tracked": torch.tensor(2)}
    tuned = {k: v + 1 if k.startswith(("stage.1.", "stage.10.")) else v for k, v in start.items()}
    assert script.parts(start, tuned, 2) == ["stage.1", "stage.10"]  # stage.2 and head did not change
    assert script.parts(start, tuned, 3) == ["stage.1.conv", "stage.10.conv"]
    only = script.only_part(start, tuned, "stage.1")  # not stage.10, whose name merely begins the same
    assert [k for k in names if not torch.equal(only[k], start[k])] == ["stage.1.conv.weight", "stage.1.conv.bias"]
    assert only["stage.1.bn.num_batches_tracked"] == 2


def test_a_set_is_named_images_and_annotations_that_exist(script, tmp_path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "odd.json").write_text("{}")
    name, (images, labels) = script._set(f"held-out={tmp_path}/images:{tmp_path}/odd.json")
    assert (name, images.name, labels.name) == ("held-out", "images", "odd.json")
    with pytest.raises(Exception, match="NAME=IMAGES:ANNOTATIONS"):
        script._set("no-paths")
    with pytest.raises(Exception, match="no folder"):
        script._set(f"held-out={tmp_path}/images:{tmp_path}/even.json")
