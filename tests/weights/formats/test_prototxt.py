"""Caffe network definitions in text format, through the schema built in code."""

from __future__ import annotations

from pathlib import Path

import pytest

from openpose_py.errors import WeightsError, WeightsNotFoundError
from openpose_py.weights.formats.caffe.prototxt import read_prototxt

from ...conftest import WEIGHTS_DIR

COCO = WEIGHTS_DIR / "cmu-openpose-prototxt" / "coco" / "pose_deploy_linevec.prototxt"


@pytest.mark.shared("weights/cmu-openpose-prototxt/coco/pose_deploy_linevec.prototxt")
def test_official_definition():
    net = read_prototxt(COCO)
    assert list(net.input) == ["image"] and list(net.input_dim)[:2] == [1, 3]
    first, pool = net.layer[0], net.layer[4]
    assert (first.name, first.type, list(first.bottom), list(first.top)) == ("conv1_1", "Convolution", ["image"],
                                                                            ["conv1_1"])
    p = first.convolution_param
    assert (p.num_output, list(p.pad), list(p.kernel_size), p.bias_term) == (64, [1], [3], True)
    assert [(s.lr_mult, s.decay_mult) for s in first.param] == [(1, 1), (2, 0)]
    assert p.weight_filler.type == "gaussian" and p.weight_filler.std == pytest.approx(0.01)
    assert (pool.pooling_param.pool, pool.pooling_param.kernel_size, pool.pooling_param.stride) == (0, 2, 2)
    assert len(net.layer) == 181


def test_legacy_and_prelu_fields(tmp_path: Path):
    path = tmp_path / "net.prototxt"
    path.write_text('name: "n" layers { name: "c" type: CONVOLUTION convolution_param { num_output: 4 } }\n'
                    'layer { name: "p" type: "PReLU" prelu_param { channel_shared: true } }\n')
    net = read_prototxt(path)
    assert net.layers[0].type == net.layers[0].CONVOLUTION and net.layers[0].convolution_param.num_output == 4
    assert net.layer[0].prelu_param.channel_shared


@pytest.mark.parametrize(("text", "error", "phrase"), [
    (None, WeightsNotFoundError, "not found"),
    ('layer { name: "a" bogus_field: 3 }', WeightsError, "bogus_field"),
    ("layer {", WeightsError, "not a Caffe network definition"),
], ids=["missing", "unknown-field", "truncated"])
def test_errors(tmp_path: Path, text, error, phrase):
    path = tmp_path / "bad.prototxt"
    if text is not None:
        path.write_text(text)
    with pytest.raises(error, match=phrase) as err:
        read_prototxt(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
