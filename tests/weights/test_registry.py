"""The registry of named weights: names and aliases, each entry once, no name twice."""

from __future__ import annotations

import dataclasses

import pytest

from openpose_py.weights import get_spec, list_specs, lookup, register_weights, registry


def test_names_aliases_and_refusals(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # undone after the test
    spec = get_spec("lightweight")
    assert lookup("hpe-0001") is spec and lookup("nope") is None
    names = [s.name for s in list_specs()]
    assert len(names) == len(set(names)) and "lightweight" in names
    extra = dataclasses.replace(spec, name="tiny", aliases=("tiny-alias",))
    assert register_weights(extra) is extra and get_spec("tiny-alias") is extra
    with pytest.raises(ValueError, match="weights name 'tiny' registered twice"):
        register_weights(extra)
    with pytest.raises(KeyError, match="unknown weights 'absent'; registered: .*lightweight"):
        get_spec("absent")
