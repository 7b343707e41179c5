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


_PATHS = {"annotations": "a.json", "images": "im", "output_dir": "out"}


def test_every_value_a_config_writes_reads_back():
    import dataclasses

    config = TrainConfig.from_dict({**_PATHS, **RECIPES["finetune"], "arch_options": {"width": 0.5},
                                    "val_max_images": 3, "lr": 1, "data": {"min_area": 100}})
    assert config.lr == 1 and config.arch_options == (("width", 0.5),) and config.freeze == ("backbone", "bn")
    again = TrainConfig.from_dict(config.to_dict())
    assert again == config and dataclasses.asdict(again) == dataclasses.asdict(config)
    assert TrainConfig.from_dict({**_PATHS, "freeze": "bn,backbone"}).freeze == ("bn", "backbone")


def test_a_value_of_the_wrong_type_is_named_with_its_option():
    import pytest

    from openpose_py.train.config import TrainConfigError

    cases = [
        ({"steps": "100"}, "steps must be an integer, got '100'"),
        ({"steps": 1.5}, "steps must be an integer, got 1.5"),
        ({"steps": None}, "steps must be an integer, got None"),
        ({"lr": "fast"}, "lr must be a number, got 'fast'"),
        ({"amp": "yes"}, "amp must be true or false, got 'yes'"),
        ({"val_max_images": 2.5}, "val_max_images must be an integer, got 2.5"),
        ({"freeze": 3}, "freeze must be a list of strings, got 3"),
        ({"freeze": ["bn", 1]}, "freeze must be a list of strings, got ['bn', 1]"),
        ({"augment": 3}, "augment must be a table, got 3"),
        ({"arch_options": 3}, "arch_options must be a table, got 3"),
        ({"augment": {"crop_size": "big"}}, "augment.crop_size must be an integer, got 'big'"),
        ({"augment": {"scale_range": [1, "x"]}}, "augment.scale_range must be a list of 2 numbers, got [1, 'x']"),
        ({"augment": {"scale_range": [1]}}, "augment.scale_range must be a list of 2 numbers, got [1]"),
        ({"augment": {"rotation": 10}}, "unknown training option(s): augment.rotation"),
        ({"data": {"negatives": 1}}, "data.negatives must be true or false, got 1"),
        ({"sigmaa": 7}, "unknown training option(s): sigmaa"),
    ]
    for bad, message in cases:
        with pytest.raises(TrainConfigError) as caught:
            TrainConfig.from_dict({**_PATHS, **bad})
        assert str(caught.value) == message
