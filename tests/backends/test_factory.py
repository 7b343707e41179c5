"""make_runner: every registered backend builds, an estimator with a CPU backend finds the same people, bad choices
are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from openpose_py import PoseEstimator
from openpose_py.backends import OnnxRuntimeRunner, OpenVinoRunner, make_runner
from openpose_py.errors import WeightsError

from .conftest import TinySpec, needs_weights


@needs_weights
def test_estimator_with_a_cpu_backend_finds_the_same_people(lightweight_estimator, dev_images):
    est = lightweight_estimator
    fast = PoseEstimator(est.model, est.spec, runner=make_runner("onnxruntime", est.model, est.spec, threads=2))
    assert fast.model is lightweight_estimator.model and fast.decoder == lightweight_estimator.decoder
    for image in dev_images:
        ours = [p.as_array() for p in fast(image)]
        reference = [p.as_array() for p in lightweight_estimator(image)]
        assert len(ours) == len(reference)
        for a, b in zip(ours, reference):
            np.testing.assert_allclose(a, b, atol=1e-3)


def test_make_runner_choices_and_errors(tiny, tiny_onnx, cache):
    assert make_runner("torch", tiny, TinySpec).name == "torch"
    ort_runner = make_runner("onnxruntime", tiny, TinySpec, cache=cache)
    ov_runner = make_runner("openvino", tiny, TinySpec, cache=cache, threads=1)
    assert isinstance(ort_runner, OnnxRuntimeRunner) and ort_runner.path == tiny_onnx
    assert isinstance(ov_runner, OpenVinoRunner) and ov_runner.path == tiny_onnx  # one export serves both
    with pytest.raises(ValueError, match="unknown backend"):
        make_runner("tensorrt", tiny, TinySpec)
    with pytest.raises(ValueError, match="torch backend only"):
        make_runner("onnxruntime", tiny, TinySpec, dtype=torch.bfloat16, cache=cache)
    with pytest.raises(WeightsError, match="no INT8 OpenVINO IR holds"):
        make_runner("openvino-int8", tiny, TinySpec)
