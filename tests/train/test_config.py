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


def test_numbers_out_of_their_range_are_named_with_their_option():
    """Failures: these values ended in a traceback deep in training (numpy's seed, the stride's division, torch's
    momentum check, cv2 allocating a 100000-pixel crop) or, for lr = inf, in a run that saved NaN weights and exited
    0; each is now refused in one line before anything runs."""
    import pytest

    from openpose_py.train.config import TrainConfigError

    inf, nan = float("inf"), float("nan")
    cases = [
        ({"lr": inf}, "lr must be a finite number, got inf"),
        ({"lr": nan}, "lr must be a finite number, got nan"),
        ({"lr": 1e38}, "lr x refinement_lr_mult x 2 (the rate of the refinement stages' biases) must stay within "
                       "float32, got 8e+38"),
        ({"distill": inf}, "distill must be a finite number, got inf"),
        ({"sigma": inf}, "sigma must be a finite number, got inf"),
        ({"paf_width": nan}, "paf_width must be a finite number, got nan"),
        ({"weight_decay": inf}, "weight_decay must be a finite number, got inf"),
        ({"seed": -1}, "seed must lie in [0, 4294967295], got -1"),
        ({"seed": 99999999999999999999}, "seed must lie in [0, 4294967295], got 99999999999999999999"),
        ({"optimizer": "sgd", "momentum": -1}, "momentum must lie in [0, 1), got -1"),
        ({"momentum": 1.0}, "momentum must lie in [0, 1), got 1.0"),
        ({"weight_decay": -1e-4}, "weight_decay must be >= 0, got -0.0001"),
        ({"refinement_lr_mult": -1.0}, "refinement_lr_mult must be >= 0, got -1.0"),
        ({"lr_gamma": 0.0}, "lr_gamma must lie in (0, 1], got 0.0"),
        ({"lr_gamma": 1e30}, "lr_gamma must lie in (0, 1], got 1e+30"),
        ({"val_max_images": 0}, "val_max_images must be positive (leave it unset for all images), got 0"),
        ({"val_max_images": -1}, "val_max_images must be positive (leave it unset for all images), got -1"),
        ({"device": "tpu"}, "unknown device 'tpu'; training runs on cpu, cuda, cuda:N or mps"),
        ({"augment": {"stride": 0}}, "augment.stride must be a positive integer, got 0"),
        # a misleading "no person with at least 5 keypoints" before
        ({"data": {"min_area": nan}}, "data.min_area must be a finite number >= 0, got nan"),
        ({"data": {"min_keypoints": 18}}, "data.min_keypoints must lie in [0, 17], got 18"),
        ({"augment": {"center_jitter": -5}}, "augment.center_jitter must be >= 0, got -5"),
        ({"augment": {"max_rotation": nan}}, "augment.max_rotation must be finite, got nan"),
        ({"augment": {"scale_range": [0.5, inf]}}, "augment.scale_range must be finite, got (0.5, inf)"),
        ({"augment": {"target_dist": 0.0}}, "augment.target_dist must be positive, got 0.0"),
        ({"augment": {"pad_value": 256}}, "augment.pad_value must be a grey level from 0 to 255, got 256"),
        ({"augment": {"crop_size": 100000}},
         "augment.crop_size must be a multiple of the stride 8 from 8 to 4096, got 100000"),
        ({"augment": {"crop_size": 100}},
         "augment.crop_size must be a multiple of the stride 8 from 8 to 4096, got 100"),
    ]
    for bad, message in cases:
        with pytest.raises(TrainConfigError) as caught:
            TrainConfig.from_dict({**_PATHS, **bad})
        assert str(caught.value) == message, bad
    # the edges are fine
    edge = TrainConfig.from_dict({**_PATHS, "seed": 2**32 - 1, "momentum": 0.0, "weight_decay": 0.0,
                                  "val_max_images": 1, "device": "cuda:1",
                                  "augment": {"crop_size": 4096, "center_jitter": 0.0}})
    assert edge.seed == 2**32 - 1 and edge.augment.crop_size == 4096


def test_network_options_the_builder_refuses_are_a_config_error():
    """Failure: ``--arch-option width=0`` (or ``num_refinement_stages = -1`` in a file) ended in the builder's
    ValueError traceback; it is now the training configuration's one-line error."""
    import pytest

    from openpose_py.train.config import TrainConfigError
    from openpose_py.train.initialise import build_model

    cases = [({"width": 0}, "width must be a positive number, got 0"),
             ({"width": float("inf")}, "width must be a positive number, got inf"),
             ({"num_refinement_stages": -1}, "num_refinement_stages must be >= 0, got -1")]
    for options, message in cases:
        config = TrainConfig.from_dict({**_PATHS, "init": "scratch", "arch_options": options})
        with pytest.raises(TrainConfigError) as caught:
            build_model(config)
        assert str(caught.value) == f"invalid network options {options} for lightweight: {message}"
