"""The network a run trains and the codec it trains with: the initial weights' codec, with the sigma and PAF width the
configuration sets, carried on into the weights and the checkpoint the run writes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from openpose_py import weights as W
from openpose_py.models import create
from openpose_py.train import TrainConfig, train
from openpose_py.train.checkpoint import load_checkpoint
from openpose_py.train.initialise import build_model

from .test_trainer import _TINY, _config, four_images  # noqa: F401  (four_images: a fixture)


def _config_from(init: Path, tmp_path: Path, **kw) -> TrainConfig:
    return TrainConfig(annotations=tmp_path / "a.json", images=tmp_path, output_dir=tmp_path / "out", init=str(init),
                       arch_options=_TINY, **kw)


def test_the_run_starts_from_the_initial_weights_codec(tmp_path: Path, caplog) -> None:
    base = W.get_spec("lightweight")
    spec = dataclasses.replace(base, name="tiny", aliases=(), sources=(), arch_kwargs=tuple(sorted(_TINY.items())),
                               codec=base.codec.replace(sigma=5.0))
    torch.manual_seed(0)
    path = W.save_weights(tmp_path / "init.safetensors", create("lightweight", **_TINY), spec)
    assert build_model(_config_from(path, tmp_path))[1].codec == spec.codec
    with caplog.at_level("WARNING", logger="openpose_py.train"):
        _, trained = build_model(_config_from(path, tmp_path, paf_width=2.0))
    assert (trained.codec.sigma, trained.codec.paf_width) == (5.0, 2.0)
    assert "the initial network learnt 5 and 1" in caplog.text
    caplog.clear()
    # from scratch there is nothing learnt to differ from: the registered entry's codec with the options, silently
    scratch = dataclasses.replace(_config_from(path, tmp_path, sigma=6.0), init="scratch")
    with caplog.at_level("WARNING", logger="openpose_py.train"):
        assert build_model(scratch)[1].codec == base.codec.replace(sigma=6.0)
    assert caplog.text == ""


def test_the_written_weights_and_checkpoint_carry_the_codec_trained_with(four_images, tmp_path: Path) -> None:  # noqa: F811
    images, annotations = four_images
    train(_config(images, annotations, tmp_path / "run", steps=1, sigma=6.0, checkpoint_every=0))
    _, spec = W.load_model(tmp_path / "run" / "weights.safetensors")
    assert (spec.codec.sigma, spec.codec.paf_width) == (6.0, 1.0)
    assert load_checkpoint(tmp_path / "run")["codec"] == spec.codec.to_dict()
