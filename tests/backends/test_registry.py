"""The backend registry: the one list make_runner and the CLI's --backend choices come from; a backend added by one
registration is built by make_runner like the built-in ones."""

from __future__ import annotations

import pytest
import torch

from openpose_py.backends import (
    BACKENDS, CPU_BACKENDS, BackendEntry, TorchRunner, backend_names, get_backend, make_runner, register_backend,
    registered_backends, registry, resolve_backend,
)
from openpose_py.cli.options import BACKEND_NAMES

from .conftest import TinySpec


def build_doubled(model, spec, options):
    """A plug-in backend: the torch runner, outputs doubled."""
    inner = TorchRunner(model)

    def run(x):
        out = inner(x)
        return type(out)(out.heatmaps * 2, out.pafs * 2)

    run.name = "doubled"
    return run


def test_the_cli_choices_and_the_constants_come_from_the_registry():
    assert BACKEND_NAMES == BACKENDS == backend_names() == ("auto", "torch", "onnxruntime", "openvino", "openvino-int8")
    assert CPU_BACKENDS == ("onnxruntime", "openvino", "openvino-int8")
    assert all(callable(entry.load_builder()) for entry in registered_backends())
    with pytest.raises(ValueError, match="^unknown backend 'tensorrt'; choose from auto, torch, onnxruntime"):
        get_backend("tensorrt")
    with pytest.raises(ValueError, match="^the openvino backend runs on the CPU, not on cuda$"):
        resolve_backend("openvino", TinySpec, device="cuda")
    assert resolve_backend("auto", TinySpec, device="cuda") == "torch"


def test_one_registration_adds_a_backend(monkeypatch, tiny):
    monkeypatch.setattr(registry, "_BACKENDS", dict(registry._BACKENDS))  # undone after the test
    register_backend(BackendEntry("doubled", f"{__name__}:build_doubled", summary="test"))
    assert backend_names()[-1] == "doubled"
    runner = make_runner("doubled", tiny, TinySpec)
    x = torch.randn(1, 3, 32, 48, generator=torch.Generator().manual_seed(0))
    assert torch.equal(runner(x).pafs, 2 * TorchRunner(tiny)(x).pafs)
    with pytest.raises(ValueError, match="torch backend only, not doubled"):
        make_runner("doubled", tiny, TinySpec, channels_last=True)
    with pytest.raises(ValueError, match="backend 'doubled' registered twice"):
        register_backend(BackendEntry("doubled", f"{__name__}:build_doubled"))
    for name, builder in (("auto", "a:b"), ("", "a:b"), ("x", "no_function")):
        with pytest.raises(ValueError):
            BackendEntry(name, builder)
