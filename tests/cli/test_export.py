"""``openpose-py export``: ONNX and TorchScript files that reproduce the torch network, and bad input."""

from __future__ import annotations

import re

import numpy as np
import torch

from .conftest import error_of, files_under, needs_weights


def _reported(stdout: str) -> tuple[float, float]:
    match = re.search(r"heatmaps ([0-9.e+-]+), pafs ([0-9.e+-]+)", stdout)
    assert match, stdout
    return float(match.group(1)), float(match.group(2))


@needs_weights
def test_onnx_export_runs_at_other_sizes_and_matches_torch(invoke, tmp_path, lightweight_estimator):
    import onnxruntime as ort

    out = tmp_path / "models" / "lightweight.onnx"
    result = invoke("export", "--format", "onnx", "-o", out, "--input-size", "128x96")
    assert result.exit_code == 0, result.output
    assert max(_reported(result.stdout)) < 1e-3
    assert files_under(tmp_path / "models") == ["lightweight.onnx"]
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image"]
    assert [o.name for o in session.get_outputs()] == ["heatmaps", "pafs"]
    x = torch.randn(2, 3, 64, 120, generator=torch.Generator().manual_seed(0))  # batch and size unlike the trace
    heatmaps, pafs = session.run(None, {"image": x.numpy()})
    with torch.inference_mode():
        final = lightweight_estimator.model(x)[-1]
    np.testing.assert_allclose(heatmaps, final.heatmaps.numpy(), atol=1e-3)
    np.testing.assert_allclose(pafs, final.pafs.numpy(), atol=1e-3)
    # the weights spec and its codec travel in the file's metadata and read back as the loaded entry's
    from openpose_py.backends.onnx import onnx_metadata
    from openpose_py.weights import SPEC_METADATA_KEY, spec_from_json

    spec = spec_from_json(onnx_metadata(out)[SPEC_METADATA_KEY])
    assert spec.codec == lightweight_estimator.spec.codec and spec.preprocess == lightweight_estimator.spec.preprocess


@needs_weights
def test_torchscript_export(invoke, tmp_path):
    out = tmp_path / "lightweight.pt"
    result = invoke("export", "--format", "torchscript", "-o", out, "--input-size", "96x64")
    assert result.exit_code == 0, result.output
    assert max(_reported(result.stdout)) < 1e-4
    extra = {"openpose_py.spec": ""}
    heatmaps, pafs = torch.jit.load(str(out), _extra_files=extra)(torch.zeros(1, 3, 64, 96))
    assert heatmaps.shape == (1, 19, 8, 12) and pafs.shape == (1, 38, 8, 12)
    from openpose_py.weights import get_spec, spec_from_json

    assert spec_from_json(extra["openpose_py.spec"]).codec == get_spec("lightweight").codec


def test_bad_input(invoke, tmp_path):
    result = invoke("export", "--format", "onnx", "-o", tmp_path / "x.onnx", "--input-size", "100x60")
    assert result.exit_code == 2 and "multiples of 8" in error_of(result)
    result = invoke("export", "--format", "tflite", "-o", tmp_path / "x.onnx")
    assert result.exit_code == 2
    result = invoke("export", "--format", "torchscript", "-o", tmp_path / "x.pt", "--static")
    assert result.exit_code == 2 and "onnx only" in error_of(result)
    result = invoke("export", "--format", "onnx", "-o", tmp_path / "x.onnx", "--model", "no-such-model")
    assert result.exit_code != 0 and "unknown weights" in error_of(result)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "a_file").write_text("")
    result = invoke("export", "--format", "onnx", "-o", tmp_path / "a_file" / "x.onnx")
    assert result.exit_code != 0 and "cannot write" in error_of(result)
    # failures: an opset the exporter lacks and a tracing size that cannot be allocated ended in tracebacks; a
    # weights file given as its own output was replaced by the export
    result = invoke("export", "--format", "onnx", "-o", tmp_path / "x.onnx", "--opset", 999)
    assert result.exit_code == 1
    assert error_of(result) == "cannot export lightweight as onnx: Unsupported onnx_opset_version: 999"
    result = invoke("export", "--format", "onnx", "-o", tmp_path / "x.onnx", "--input-size", "80000x80000")
    assert result.exit_code == 2 and "at most 4096 a side" in error_of(result)
    (tmp_path / "w.safetensors").write_bytes(b"weights")
    result = invoke("export", "--format", "torchscript", "--weights", tmp_path / "w.safetensors",
                    "-o", tmp_path / "." / "w.safetensors")
    assert result.exit_code == 2
    assert error_of(result).endswith("w.safetensors is an input: writing it would replace the input")
    assert (tmp_path / "w.safetensors").read_bytes() == b"weights"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "w.safetensors"]


def test_onnx_export_without_the_onnx_extra_names_the_extra(tmp_path):
    """Failure: the user saw torch's "Module onnx is not installed!"; the extra to install is named instead, before
    any model loads (onnx is hidden from a fresh interpreter to stand for a machine without it)."""
    import subprocess
    import sys

    code = ("import sys\nsys.modules['onnx'] = None\nfrom openpose_py.cli import main\n"
            f"main(['export', '--format', 'onnx', '-o', {str(tmp_path / 'm.onnx')!r}])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip() == ("Error: `export --format onnx` needs the onnx extra (onnx missing): "
                                   "pip install 'openpose-py[onnx]'")
    assert files_under(tmp_path) == []
