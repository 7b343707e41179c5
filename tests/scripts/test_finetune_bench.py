"""scripts/finetune_bench.py: recipe options with overrides on top, a table's keys one at a time."""

from __future__ import annotations

import pytest

from openpose_py.train.config import RECIPES, TrainConfig

from .conftest import load_script


@pytest.fixture(scope="module")
def bench():
    return load_script("finetune_bench")


def test_an_override_of_a_tables_key_keeps_the_recipes_other_keys(bench, tmp_path) -> None:
    options = bench._options("finetune", ["augment.max_rotation=0", "augment.scale_range=1,1", "distill=0",
                                          "lr=1e-5", "mask_unlabelled=true"])
    assert options["augment"] == {**RECIPES["finetune"]["augment"], "max_rotation": 0, "scale_range": [1, 1]}
    assert (options["distill"], options["lr"], options["mask_unlabelled"]) == (0, 1e-5, True)
    assert options["optimizer"] == RECIPES["finetune"]["optimizer"]
    config = TrainConfig.from_dict({**options, "annotations": tmp_path / "a.json", "images": tmp_path,
                                    "output_dir": tmp_path / "run"})
    assert (config.augment.crop_size, config.augment.max_rotation, config.augment.scale_range) == (256, 0, (1.0, 1.0))
    assert RECIPES["finetune"]["augment"] == {"crop_size": 256}  # the recipe itself is left as it was
