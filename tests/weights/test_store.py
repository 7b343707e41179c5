"""Where weights files are found: the resolution order, checksums, unpublished hashes, the offline and failed-download
errors."""

from __future__ import annotations

import pytest
import torch

from openpose_py import weights as W
from openpose_py.errors import ChecksumError, WeightsNotFoundError
from openpose_py.models import create

from .conftest import PAYLOAD, PAYLOAD_SHA, register_tiny


def test_resolution_order_and_checksums(env, monkeypatch, tmp_path):
    wdir, cache = env
    register_tiny(monkeypatch, "tiny")
    cache.mkdir()
    (cache / "tiny.bin").write_bytes(PAYLOAD)
    assert W.resolve("tiny") == cache / "tiny.bin"
    nested = wdir / "a" / "b" / "tiny.bin"  # found recursively, and ahead of the cache
    nested.parent.mkdir(parents=True)
    nested.write_bytes(PAYLOAD)
    assert W.resolve("tiny") == nested
    explicit = tmp_path / "elsewhere.bin"
    explicit.write_bytes(b"anything")
    assert W.resolve(explicit) == explicit
    # a corrupt copy is passed over while a good one exists...
    nested.write_bytes(PAYLOAD[:-1] + b"\x00")
    assert W.resolve("tiny") == cache / "tiny.bin"
    assert {f.status for f in W.find_local("tiny")} == {"ok", "mismatch"}
    # ...and reported, with both hashes, when it is the only one
    (cache / "tiny.bin").unlink()
    with pytest.raises(ChecksumError) as err:
        W.resolve("tiny", download=False)
    assert str(nested) in str(err.value) and PAYLOAD_SHA in str(err.value)
    assert W.sha256_file(nested) in str(err.value)


def test_unpublished_hash_is_used_with_a_warning_and_cached_by_content(env, caplog):
    wdir, cache = env
    torch.manual_seed(0)
    state = create("lightweight", variant="original").state_dict()
    torch.save({"state_dict": state, "iter": 370000}, wdir / "checkpoint_iter_370000.pth")
    with caplog.at_level("WARNING", logger="openpose_py.weights"):
        model, spec = W.load_model("lightweight-370k")
    assert "cannot be verified" in caplog.text and spec.name == "lightweight-370k"
    assert W.converted_path(W.sha256_file(wdir / "checkpoint_iter_370000.pth")).is_file()
    for (k, a), b in zip(state.items(), model.state_dict().values()):
        assert torch.equal(a, b), k
    assert [f.status for f in W.find_local("lightweight-370k")] == ["unverified"]


def test_a_failed_download_gives_the_same_error_as_offline(env, monkeypatch):
    """DNS failure (the .invalid domain never resolves) through the Python API: the package's own exception, one line,
    every place looked at and where to put the file, not a urllib traceback."""
    from openpose_py import PoseEstimator

    wdir, cache = env
    register_tiny(monkeypatch, "tiny", url="https://weights.example.invalid/tiny.bin")
    with pytest.raises(WeightsNotFoundError) as err:
        PoseEstimator.from_pretrained("tiny")
    message = str(err.value)
    assert "\n" not in message and "download of https://weights.example.invalid/tiny.bin failed" in message
    for part in ("tiny.bin", str(wdir), str(cache), "(shipped)", "obtain the file(s) from"):
        assert part in message


def test_offline_error_names_every_place(env, monkeypatch):
    wdir, cache = env
    register_tiny(monkeypatch, "tiny", url="https://example.invalid/tiny.bin")
    monkeypatch.setenv(W.ENV_OFFLINE, "1")
    with pytest.raises(WeightsNotFoundError) as err:
        W.resolve("tiny")
    message = str(err.value)
    for part in ("tiny.bin", str(wdir), str(cache), W.ENV_OFFLINE, "https://example.invalid/tiny.bin"):
        assert part in message
    assert "\n" not in message
    with pytest.raises(WeightsNotFoundError, match="unknown weights 'nope'"):
        W.resolve("nope")
