"""ONNX exports and the ONNX Runtime runner: the export cache, dynamic shapes, TorchScript, failed exports."""

from __future__ import annotations

import pytest
import torch

from openpose_py import COCO_18
from openpose_py.models.lightweight import lightweight
from openpose_py.backends import (
    OnnxRuntimeRunner, OpenVinoRunner, TorchRunner, cached_onnx, export_onnx, export_torchscript, max_abs_difference,
)

from .conftest import needs_weights


def test_a_damaged_cached_export_is_made_again_and_an_unwritable_cache_is_worked_around(tiny, tmp_path, caplog):
    """Failures: an ONNX export in the cache cut short or emptied (a full disk) ended every later run of the
    onnxruntime/openvino backends in a parser traceback; a cache folder that cannot be created (a file in the way)
    ended them in NotADirectoryError."""
    path = cached_onnx(tiny, "tiny", tmp_path)
    good = path.read_bytes()
    assert path.with_name(path.name + ".sha256").is_file()
    for damage in (good[: len(good) // 2], b""):
        path.write_bytes(damage)
        assert cached_onnx(tiny, "tiny", tmp_path) == path and path.read_bytes() == good
        OnnxRuntimeRunner(path)
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with caplog.at_level("WARNING"):
        scratch = cached_onnx(tiny, "tiny", blocker)
    assert "could not cache the ONNX export" in caplog.text and scratch.read_bytes() == good
    assert cached_onnx(tiny, "tiny", blocker) == scratch, "exported once per process"


@needs_weights
def test_onnx_backends_match_torch_on_dev_images(real, dev_inputs, tmp_path):
    path = cached_onnx(real, "lightweight", tmp_path)
    reference = TorchRunner(real)
    for runner in (OnnxRuntimeRunner(path, threads=2), OpenVinoRunner(path, COCO_18, threads=2)):
        for x in dev_inputs:
            diff = max_abs_difference(reference(x), runner(x))
            assert max(diff.values()) < 1e-3, (runner.name, diff)


def test_dynamic_shapes_and_batches(tiny, tiny_onnx):
    path = tiny_onnx
    reference = TorchRunner(tiny)
    generator = torch.Generator().manual_seed(1)
    for runner in (OnnxRuntimeRunner(path), OpenVinoRunner(path, COCO_18)):
        for shape in ((1, 3, 48, 64), (2, 3, 80, 40)):
            x = torch.randn(*shape, generator=generator)
            out = runner(x)
            assert out.heatmaps.shape == (shape[0], COCO_18.num_heatmaps, shape[2] // 8, shape[3] // 8)
            assert out.pafs.shape == (shape[0], COCO_18.num_pafs, shape[2] // 8, shape[3] // 8)
            assert max(max_abs_difference(reference(x), out).values()) < 1e-4


def test_onnx_cache_is_keyed_by_weights(tiny_onnx, cache):
    torch.manual_seed(0)
    model = lightweight(width=0.125).eval()  # the same weights as ``tiny``, another object
    stamp = tiny_onnx.stat().st_mtime_ns
    assert cached_onnx(model, "tiny", cache) == tiny_onnx and tiny_onnx.stat().st_mtime_ns == stamp
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    second = cached_onnx(model, "tiny", cache)
    assert second != tiny_onnx and second.is_file()
    second.unlink()


def test_torchscript_export_reproduces_the_network(tiny, tmp_path):
    path = export_torchscript(tiny, tmp_path / "tiny.pt", example_size=(64, 48))
    loaded = torch.jit.load(str(path))
    x = torch.randn(1, 3, 56, 72, generator=torch.Generator().manual_seed(2))
    heatmaps, pafs = loaded(x)
    ref = TorchRunner(tiny)(x)
    assert torch.allclose(heatmaps, ref.heatmaps, atol=1e-5) and torch.allclose(pafs, ref.pafs, atol=1e-5)


def test_failed_export_leaves_no_file(tmp_path):
    class Broken(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 3, 1)

        def forward(self, x):
            raise RuntimeError("cannot trace")

    with pytest.raises(RuntimeError, match="cannot trace"):
        export_onnx(Broken(), tmp_path / "broken.onnx")
    assert list(tmp_path.iterdir()) == []
