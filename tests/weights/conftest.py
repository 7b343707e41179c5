"""Fixtures of the weights tests: an empty weights folder and cache, and a tiny registered entry."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from openpose_py import weights as W
from openpose_py.weights import registry

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


def register_tiny(monkeypatch, name: str, url: str | None = None, sha: str = PAYLOAD_SHA) -> W.WeightsSpec:
    base = W.get_spec("lightweight")
    spec = dataclasses.replace(base, name=name, aliases=(), published="https://example.invalid/page",
                               sources=(W.WeightsSource("tiny.bin", sha, len(PAYLOAD), url, "state_dict"),))
    monkeypatch.setitem(registry._REGISTRY, name, spec)  # the registry is global: undone after the test
    return spec
