"""Training options in layers: a recipe, a resumed run's configuration, a config file, then explicit options."""

from __future__ import annotations

from openpose_py.train.config import RECIPES, TrainConfig, overlay_options


def test_a_layer_replaces_options_and_merges_their_tables_key_by_key():
    recipe = RECIPES["finetune"]
    file = {"lr": 1e-7, "augment": {"max_rotation": 10.0}, "data": {"negatives": True}}
    merged = overlay_options(recipe, file)
    assert merged["lr"] == 1e-7 and merged["distill"] == recipe["distill"]
    assert merged["augment"] == {"crop_size": 256, "max_rotation": 10.0}, "the recipe's crop size stays"
    assert merged["data"] == {"negatives": True}
    assert recipe["augment"] == {"crop_size": 256}, "the recipe itself is left as it was"
    config = TrainConfig.from_dict({**merged, "annotations": "a.json", "images": "im", "output_dir": "out"})
    assert (config.augment.crop_size, config.augment.max_rotation, config.data.negatives) == (256, 10.0, True)
    # a table given whole (not a mapping) still replaces, and arch_options merge like the others
    assert overlay_options({"augment": {"crop_size": 256}}, {"augment": None})["augment"] is None
    assert overlay_options({"arch_options": {"width": 0.5}}, {"arch_options": {"variant": "original"}})[
        "arch_options"] == {"width": 0.5, "variant": "original"}


def test_target_parameters_must_be_positive():
    import pytest

    from openpose_py.train.config import TrainConfigError

    paths = {"annotations": "a.json", "images": "im", "output_dir": "out"}
    assert TrainConfig.from_dict({**paths, "sigma": 8.0, "paf_width": 1.5}).paf_width == 1.5
    for bad in ({"sigma": 0.0}, {"paf_width": -1.0}):
        with pytest.raises(TrainConfigError, match="sigma and paf_width must be positive"):
            TrainConfig.from_dict({**paths, **bad})
