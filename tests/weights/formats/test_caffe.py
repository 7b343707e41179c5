"""Caffe model import: wire format against hand-encoded bytes, full-size round trips for the three CMU networks
(``layer`` and legacy ``layers`` files), and clear errors for wrong networks and broken files."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from openpose_py.errors import ArchitectureMismatchError, WeightsError, WeightsNotFoundError
from openpose_py.weights.formats.caffe.schema import V1_LAYER_TYPES, NetParameter
from openpose_py.weights.formats.caffe.model import load_caffemodel, read_caffemodel
from openpose_py.models import create
from openpose_py.weights import read_weights


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes | int) -> bytes:
    """One protobuf field: an int is a varint (wire type 0), bytes are length-delimited (wire type 2)."""
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_reads_hand_encoded_wire_format(tmp_path: Path):
    """Field numbers of caffe.proto, encoded without the schema: NetParameter.layer = 100, .layers = 2;
    LayerParameter name 1, type 2, blobs 7; V1LayerParameter name 4, type 5 (enum), blobs 6; BlobProto shape 7
    (BlobShape.dim 1, packed), data 5 (packed float), double_data 8 (packed double), num/channels/height/width 1-4."""
    modern_blob = _field(7, _field(1, b"".join(_varint(d) for d in (2, 1, 1, 1)))) + \
        _field(5, struct.pack("<2f", 1.5, -2.0))
    modern = _field(1, b"conv1_1") + _field(2, b"PReLU") + _field(7, modern_blob)
    legacy_blob = _field(1, 1) + _field(2, 1) + _field(3, 1) + _field(4, 3) + \
        _field(8, struct.pack("<3d", 0.25, 0.5, -4.0))
    legacy = _field(4, b"old") + _field(5, V1_LAYER_TYPES["CONVOLUTION"]) + _field(6, legacy_blob)
    path = tmp_path / "tiny.caffemodel"
    path.write_bytes(_field(1, b"net") + _field(2, legacy) + _field(100, modern))
    old, new = read_caffemodel(path)
    assert (old.name, old.type, new.name, new.type) == ("old", "CONVOLUTION", "conv1_1", "PReLU")
    np.testing.assert_array_equal(old.blobs[0], np.array([[[[0.25, 0.5, -4.0]]]], dtype=np.float32))
    np.testing.assert_array_equal(new.blobs[0], np.array([1.5, -2.0], dtype=np.float32).reshape(2, 1, 1, 1))
    assert old.blobs[0].dtype == new.blobs[0].dtype == np.float32


def write_caffemodel(path: Path, state: dict[str, torch.Tensor], *, legacy: bool, double: bool) -> None:
    """A Caffe model holding ``state``: blob 0 = weight, blob 1 = bias of the layer named by the key prefix.
    ``legacy``: V1 ``layers`` field with 4-D num/channels/height/width shapes (as pre-2015 Caffe wrote them)."""
    net = NetParameter(name="random")
    layers: dict[str, list[str]] = {}
    for key in state:
        layer, param = key.rsplit(".", 1)
        layers.setdefault(layer, []).append(param)
    for name, params in layers.items():
        assert params in (["weight", "bias"], ["weight"])
        if legacy:
            layer = net.layers.add(name=name, type=V1_LAYER_TYPES["CONVOLUTION"])
        else:
            layer = net.layer.add(name=name, type="Convolution" if len(params) == 2 else "PReLU")
        for param in params:
            tensor = state[f"{name}.{param}"]
            blob = layer.blobs.add()
            if legacy:
                blob.num, blob.channels, blob.height, blob.width = (1,) * (4 - tensor.dim()) + tuple(tensor.shape)
            else:
                blob.shape.dim.extend(tensor.shape)
            (blob.double_data if double else blob.data).extend(tensor.flatten().tolist())
    path.write_bytes(net.SerializeToString())


@pytest.mark.parametrize(("architecture", "legacy", "double", "wrong", "complaint"), [
    ("cmu-coco", False, False, "cmu-mpi",
     "shape mismatches (file vs network) conv5_5_CPM_L1.weight (38, 512, 1, 1) vs (28, 512, 1, 1)"),
    ("cmu-mpi", True, False, "cmu-coco", "conv5_5_CPM_L1.weight (28, 512, 1, 1) vs (38, 512, 1, 1)"),
    ("cmu-body25", False, True, "cmu-coco", "missing layers conv5_1_CPM_L1, conv5_1_CPM_L2, conv5_2_CPM_L1"),
], ids=["coco-layer-float", "mpi-v1-legacy-shapes", "body25-layer-double"])
def test_round_trip(tmp_path: Path, architecture, legacy, double, wrong, complaint):
    model = create(architecture)
    gen = torch.Generator().manual_seed(0)
    state = {k: torch.randn(v.shape, generator=gen) for k, v in model.state_dict().items()}
    path = tmp_path / f"{architecture}.caffemodel"
    write_caffemodel(path, state, legacy=legacy, double=double)

    loaded, inferred = load_caffemodel(path)
    assert inferred == architecture
    assert loaded.keys() == state.keys()
    for key, tensor in state.items():  # equal shapes too: legacy (1, 1, 1, C) biases arrive as (C,)
        assert loaded[key].dtype == torch.float32 and torch.equal(loaded[key], tensor), key
    model.load_state_dict(loaded, strict=True)
    if architecture == "cmu-body25":
        assert torch.equal(model.prelu4_2.weight, state["prelu4_2.weight"])
        assert model.Mprelu6_stage1_L1.weight.shape == (512,)
        # the weights registry reads .caffemodel files through this importer
        tensors, spec = read_weights(path)
        assert spec.name == "cmu-body25"
        assert torch.equal(tensors["Mconv7_stage1_L1.bias"], state["Mconv7_stage1_L1.bias"])

    with pytest.raises(ArchitectureMismatchError, match=r"^.*does not fit the .* network: ") as err:
        load_caffemodel(path, architecture=wrong)
    assert complaint in str(err.value) and "\n" not in str(err.value)
    path.unlink()


def test_unknown_network_names_closest(tmp_path: Path):
    state = {"conv1_1.weight": torch.zeros(64, 3, 3, 3), "conv1_1.bias": torch.zeros(64),
             "fc8.weight": torch.zeros(10, 4, 1, 1)}
    path = tmp_path / "other.caffemodel"
    write_caffemodel(path, state, legacy=False, double=False)
    with pytest.raises(ArchitectureMismatchError) as err:
        load_caffemodel(path)
    message = str(err.value)
    assert "any of cmu-coco, cmu-body25, cmu-mpi (closest:" in message
    assert "unexpected layers fc8" in message and "missing layers conv1_2" in message


@pytest.mark.parametrize(("content", "error", "phrase"), [
    (None, WeightsNotFoundError, "not found"),
    (b"\xff" * 64, WeightsError, "is not a binary Caffe model"),
    (_field(100, _field(1, b"conv1_1")), WeightsError, "holds no trained blobs"),
    (_field(100, _field(1, b"c") + _field(7, _field(7, _field(1, _varint(3))) + _field(5, struct.pack("<2f", 0, 0)))),
     WeightsError, "blob shape (3,) needs 3 values, the file holds 2"),
], ids=["missing", "garbage", "no-blobs", "short-blob"])
def test_broken_files(tmp_path: Path, content, error, phrase):
    path = tmp_path / "model.caffemodel"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error) as err:
        load_caffemodel(path)
    assert phrase in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


def test_duplicate_layer_rejected(tmp_path: Path):
    layer = _field(100, _field(1, b"conv1_1") + _field(7, _field(5, struct.pack("<f", 1))))
    path = tmp_path / "dup.caffemodel"
    path.write_bytes(layer + layer)
    assert [layer.name for layer in read_caffemodel(path)] == ["conv1_1", "conv1_1"]
    with pytest.raises(WeightsError, match="appears twice"):
        load_caffemodel(path)

