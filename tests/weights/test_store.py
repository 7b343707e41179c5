"""Weights registry, resolution order, downloads over loopback HTTP, loading and saving."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import threading

import pytest
import torch

from openpose_py import weights as W
from openpose_py.weights import registry
from openpose_py.errors import ArchitectureMismatchError, ChecksumError, WeightsError, WeightsNotFoundError
from openpose_py.models import create
from openpose_py.models.lightweight import LightweightOpenPose
from openpose_py.skeleton import COCO_18

from ..conftest import WEIGHTS_DIR as SHARED_WEIGHTS

needs_shared = pytest.mark.shared("weights/hpe-0001")

PAYLOAD = bytes(range(256)) * 64  # 16 KiB of known bytes
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Empty weights dir and cache under tmp_path, online."""
    wdir, cache = tmp_path / "weights", tmp_path / "cache"
    wdir.mkdir()
    monkeypatch.setenv(W.ENV_WEIGHTS_DIR, str(wdir))
    monkeypatch.setenv(W.ENV_CACHE_DIR, str(cache))
    monkeypatch.delenv(W.ENV_OFFLINE, raising=False)
    return wdir, cache


def _register(monkeypatch, name: str, url: str | None = None, sha: str = PAYLOAD_SHA) -> W.WeightsSpec:
    base = W.get_spec("lightweight")
    spec = dataclasses.replace(base, name=name, aliases=(), published="https://example.invalid/page",
                               sources=(W.WeightsSource("tiny.bin", sha, len(PAYLOAD), url, "state_dict"),))
    monkeypatch.setitem(registry._REGISTRY, name, spec)  # the registry is global: undone after the test
    return spec


@needs_shared
def test_registered_lightweight_entry_matches_shared_files():
    spec = W.get_spec("lightweight")
    assert W.get_spec("hpe-0001") is spec and W.get_spec("lightweight-coco18") is spec
    assert spec.skeleton is COCO_18 and spec.preprocess.std == 255.0 and spec.preprocess.pad == "center"
    for source in spec.sources:
        path = SHARED_WEIGHTS / "hpe-0001" / source.filename
        assert W.sha256_file(path) == source.sha256 and path.stat().st_size == source.size
    assert [s.companion for s in spec.sources] == [False, True, False]
    original = W.get_spec("lightweight-370k")
    assert original.sources[0].sha256 == "" and dict(original.arch_kwargs)["variant"] == "original"


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


def test_resolution_order_and_checksums(env, monkeypatch, tmp_path):
    wdir, cache = env
    _register(monkeypatch, "tiny")
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
    _register(monkeypatch, "tiny", url="https://weights.example.invalid/tiny.bin")
    with pytest.raises(WeightsNotFoundError) as err:
        PoseEstimator.from_pretrained("tiny")
    message = str(err.value)
    assert "\n" not in message and "download of https://weights.example.invalid/tiny.bin failed" in message
    for part in ("tiny.bin", str(wdir), str(cache), "(shipped)", "obtain the file(s) from"):
        assert part in message


def test_offline_error_names_every_place(env, monkeypatch):
    wdir, cache = env
    _register(monkeypatch, "tiny", url="https://example.invalid/tiny.bin")
    monkeypatch.setenv(W.ENV_OFFLINE, "1")
    with pytest.raises(WeightsNotFoundError) as err:
        W.resolve("tiny")
    message = str(err.value)
    for part in ("tiny.bin", str(wdir), str(cache), W.ENV_OFFLINE, "https://example.invalid/tiny.bin"):
        assert part in message
    assert "\n" not in message
    with pytest.raises(WeightsNotFoundError, match="unknown weights 'nope'"):
        W.resolve("nope")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server API)
        body, announced = PAYLOAD, len(PAYLOAD)
        if self.path == "/truncated":
            body = PAYLOAD[: len(PAYLOAD) // 3]  # announces the full length, then hangs up
        elif self.path == "/wrong":
            body = bytes(reversed(PAYLOAD))
        elif self.path != "/good":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(announced))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_over_loopback(env, monkeypatch, server):
    _, cache = env
    for route, error in (("truncated", "truncated"), ("wrong", "sha256"), ("missing", "404")):
        _register(monkeypatch, "tiny", url=f"{server}/{route}")
        with pytest.raises(WeightsError, match=error):
            W.resolve("tiny")
        assert not cache.exists() or list(cache.iterdir()) == []  # no partial or corrupt file left
    _register(monkeypatch, "tiny", url=f"{server}/good")
    path = W.resolve("tiny")
    assert path == cache / "tiny.bin" and path.read_bytes() == PAYLOAD
    assert [p.name for p in cache.iterdir()] == ["tiny.bin"]
    with pytest.raises(ChecksumError):
        W.download(W.WeightsSource("x.bin", PAYLOAD_SHA, None, f"{server}/wrong"), cache)
    assert sorted(p.name for p in cache.iterdir()) == ["tiny.bin"]


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
