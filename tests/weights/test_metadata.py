"""The spec in a weights file's metadata: codec included, read back by loading; older files get the reference codec;
a damaged description is refused in one line."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from openpose_py import weights as W
from openpose_py.errors import WeightsError
from openpose_py.models import create


def test_the_codec_travels_with_saved_weights(tmp_path):
    base = W.get_spec("lightweight")
    spec = dataclasses.replace(base, name="tiny-run", aliases=(), sources=(), arch_kwargs=(("width", 0.125),),
                               codec=base.codec.replace(sigma=5.0, paf_width=2.0, decoder="cvpr2017"))
    torch.manual_seed(0)
    path = W.save_weights(tmp_path / "run.safetensors", create("lightweight", width=0.125), spec)
    _, loaded = W.load_model(path)
    assert loaded.codec == spec.codec and loaded.codec != base.codec
    assert W.spec_from_json(W.spec_to_json(spec)) == spec


def test_a_description_without_a_codec_gets_the_reference_one_and_a_bad_one_is_refused():
    body = json.loads(W.spec_to_json(W.get_spec("lightweight")))
    old = {k: v for k, v in body.items() if k != "codec"}  # written before codecs were stored
    spec = W.spec_from_json(json.dumps(old))
    assert spec.codec == W.get_spec("lightweight").codec and spec.sources == W.get_spec("lightweight").sources
    for codec, reason in (({**body["codec"], "sigma": -1}, "sigma must be a number in"),
                          ({**body["codec"], "skeleton": "BODY_25"}, "do not match the entry's COCO_18"),
                          ({**body["codec"], "kind": "cif"}, "unknown codec kind 'cif'")):
        with pytest.raises(WeightsError, match=f"^run.safetensors: invalid openpose_py.spec metadata .*{reason}"):
            W.spec_from_json(json.dumps({**body, "codec": codec}), source="run.safetensors")
