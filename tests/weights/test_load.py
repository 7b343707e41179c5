"""Loading weights into a network: conversion once into the cache, corrupt conversions redone, saving and reading
back, bare files matched or refused, imports."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from openpose_py import weights as W
from openpose_py.errors import ArchitectureMismatchError, WeightsError, WeightsNotFoundError
from openpose_py.models import create
from openpose_py.models.lightweight import LightweightOpenPose
from openpose_py.skeleton import COCO_18

from .conftest import SHARED_WEIGHTS, needs_shared


@needs_shared
def test_load_model_converts_once_then_reads_cache(env, monkeypatch):
    _, cache = env
    monkeypatch.setenv(W.ENV_WEIGHTS_DIR, str(SHARED_WEIGHTS))
    model, spec = W.load_model("hpe-0001")
    assert isinstance(model, LightweightOpenPose) and not model.training and spec.name == "lightweight"
    converted = W.converted_path(spec.sources[0].sha256)
    assert converted.is_file() and converted.parent.parent == cache
    # the conversion now stands in for the IR: no weights dir, no shipped files, offline, still loads, same tensors
    monkeypatch.delenv(W.ENV_WEIGHTS_DIR)
    monkeypatch.setattr("openpose_py.weights.store.shipped_dir", lambda: None)
    monkeypatch.setenv(W.ENV_OFFLINE, "1")
    again, _ = W.load_model("lightweight")
    for (k, a), b in zip(model.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), k
    statuses = [(f.source.filename, f.status) for f in W.find_local("lightweight")]
    assert statuses == [("human-pose-estimation-0001.xml", "converted"), ("human-pose-estimation-0001.bin", "missing"),
                        ("hpe0001_float32_ir_names.pth", "missing")]
    assert W.is_present("lightweight")


def test_a_corrupt_converted_file_is_converted_again(env, monkeypatch, caplog):
    """One flipped byte in the cached conversion must not give a silently broken network: the file no longer matches
    its recorded sha256, so the original (the shipped IR) is converted again and the cache entry replaced; the
    warning says so once (it was printed twice: the file was checked under two keys)."""
    from openpose_py.weights.places import shipped_dir

    monkeypatch.setenv(W.ENV_WEIGHTS_DIR, str(shipped_dir()))
    model, spec = W.load_model("lightweight")
    converted = W.converted_path(spec.sources[0].sha256)
    good = converted.read_bytes()
    data = bytearray(good)
    data[len(data) - 1000] ^= 0x01  # inside the last tensor's bytes
    converted.write_bytes(bytes(data))
    with caplog.at_level("WARNING", logger="openpose_py.weights"):
        again, _ = W.load_model("lightweight")
    assert caplog.text.count("ignoring corrupt converted weights") == 1, caplog.text
    for (k, a), b in zip(model.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), k
    assert converted.read_bytes() == good
    # without the original, the corrupt file is not used either: the error says where to put the files
    converted.write_bytes(bytes(data))
    monkeypatch.setenv(W.ENV_WEIGHTS_DIR, str(env[0]))
    monkeypatch.setattr("openpose_py.weights.store.shipped_dir", lambda: None)
    monkeypatch.setenv(W.ENV_OFFLINE, "1")
    assert not W.is_present("lightweight")
    with pytest.raises(WeightsNotFoundError, match="human-pose-estimation-0001.xml"):
        W.load_model("lightweight")


def test_save_weights_round_trip(env, tmp_path):
    torch.manual_seed(0)
    spec = dataclasses.replace(W.get_spec("lightweight"), name="tiny-run", aliases=(), sources=(),
                               arch_kwargs=(("num_refinement_stages", 2), ("variant", "original"), ("width", 0.25)))
    model = create("lightweight", **spec.builder_kwargs)
    path = W.save_weights(tmp_path / "run.safetensors", model, spec, metadata={"iteration": "12"})
    loaded, got = W.load_model(path)
    assert got.name == "tiny-run" and got.builder_kwargs == spec.builder_kwargs and got.preprocess == spec.preprocess
    assert got.skeleton is COCO_18 and not loaded.training
    for (k, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), k
    assert list(tmp_path.glob("*.part")) == []
    # failure: weights a diverged run left (NaN in most tensors) loaded silently and found no one in any image
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    W.save_weights(tmp_path / "nan.safetensors", model, spec)
    with pytest.raises(WeightsError, match=r"nan.safetensors: 1 of \d+ tensors hold NaN or infinite values \(the "
                                           r"first: [\w.]+\), as a training run that diverged leaves them$"):
        W.load_model(tmp_path / "nan.safetensors")


def test_bare_files_are_matched_or_rejected(env, tmp_path):
    torch.manual_seed(0)
    original = create("lightweight", variant="original").state_dict()
    ckpt = tmp_path / "checkpoint_iter_1.pth"
    torch.save({"state_dict": original, "iter": 1}, ckpt)  # the original training code's checkpoint shape
    model, spec = W.load_model(ckpt)
    assert spec.name == "lightweight-370k" and model.variant == "original"
    with pytest.raises(ArchitectureMismatchError, match="expected hpe-0001"):
        W.load_model(ckpt, architecture="hpe-0001")
    junk = tmp_path / "junk.pth"
    torch.save({"foo.weight": torch.zeros(3)}, junk)
    with pytest.raises(ArchitectureMismatchError, match="fits no registered network"):
        W.load_model(junk)
    wrong_shape = tmp_path / "wrong.safetensors"
    tiny = dataclasses.replace(W.get_spec("lightweight"), name="w", aliases=(), arch_kwargs=(("width", 0.5),))
    W.save_weights(wrong_shape, create("lightweight", width=0.25), tiny)
    with pytest.raises(ArchitectureMismatchError, match="of other shape"):
        W.load_model(wrong_shape)
    with pytest.raises(WeightsNotFoundError, match="no such weights file"):
        W.load_model(tmp_path / "absent.pth")


@needs_shared
def test_import_weights_and_ir_named_state_dict(env, monkeypatch):
    xml = SHARED_WEIGHTS / "hpe-0001" / "human-pose-estimation-0001.xml"
    cached = W.import_weights(xml)
    assert cached == W.converted_path(W.get_spec("lightweight").sources[0].sha256)
    monkeypatch.delenv(W.ENV_WEIGHTS_DIR)
    monkeypatch.setenv(W.ENV_OFFLINE, "1")
    from_cache, _ = W.load_model("lightweight")
    from_pth, spec = W.load_model(SHARED_WEIGHTS / "hpe-0001" / "hpe0001_float32_ir_names.pth")
    assert spec.name == "lightweight"
    for (k, a), b in zip(from_cache.state_dict().items(), from_pth.state_dict().values()):
        assert float((a - b).abs().max()) <= 1e-4 * max(float(b.abs().max()), 1e-12), k
