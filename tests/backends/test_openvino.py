"""The OpenVINO runner: the INT8 IR with its stem and output layers in float, and one Core per process (signal handling intact)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from openpose_py import COCO_18
from openpose_py.backends import (
    INT8_FLOAT_LAYERS, OpenVinoRunner, TorchRunner, find_int8_ir, make_runner, max_abs_difference, openvino_core,
)
from openpose_py.errors import WeightsError

from .conftest import HPE, IR, needs_weights


@needs_weights
def test_int8_ir_takes_normalised_input_and_stays_close(lightweight_estimator, real, dev_inputs):
    spec = lightweight_estimator.spec
    assert find_int8_ir(spec) is not None and find_int8_ir(spec).name == IR.name  # what "lightweight" resolves to
    assert find_int8_ir(spec, HPE / "hpe0001_float32_ir_names.pth") is None  # other weights: no IR holds them
    norm = spec.preprocess
    runner = OpenVinoRunner(IR, COCO_18, threads=2, input_affine=(norm.mean, norm.std))  # every layer INT8
    x = dev_inputs[0]
    out = runner(x)
    # the untouched IR on raw pixels: cutting its normalisation must change nothing
    core = openvino_core()
    raw_model = core.read_model(str(IR))
    raw_model.reshape([1, 3, *x.shape[2:]])
    compiled = core.compile_model(raw_model, "CPU", {"INFERENCE_NUM_THREADS": 2, "INFERENCE_PRECISION_HINT": "f32"})
    raw = compiled(x.numpy() * norm.std + norm.mean)
    by_channels = {v.shape[1]: v for v in raw.values()}
    assert np.abs(by_channels[COCO_18.num_heatmaps] - out.heatmaps.numpy()).max() < 1e-5
    assert np.abs(by_channels[COCO_18.num_pafs] - out.pafs.numpy()).max() < 1e-5
    # quantised weights: close to float32 on average, not bit-equal
    ref = TorchRunner(real)(x)
    assert (out.heatmaps - ref.heatmaps).abs().mean() < 0.01
    assert (out.pafs - ref.pafs).abs().mean() < 0.01
    with pytest.raises(WeightsError, match="normalises as"):
        OpenVinoRunner(IR, COCO_18, input_affine=(0.0, 1.0))


def _runtime_precisions(runner: OpenVinoRunner) -> dict[str, str]:
    """Convolution name -> the precision OpenVINO's CPU plugin runs it in (u8: INT8 input, f32: float)."""
    ops = runner.compiled.get_runtime_model().get_ordered_ops()
    return {op.get_friendly_name(): op.get_rt_info()["runtimePrecision"].astype(str) for op in ops
            if op.get_rt_info()["layerType"].astype(str) == "Convolution"}


INT8 = {"u8", "i8"}


@needs_weights
def test_int8_backend_runs_the_stem_and_outputs_in_float_and_is_closer_to_float32(lightweight_estimator, real, dev_inputs):
    spec = lightweight_estimator.spec
    norm = spec.preprocess
    mixed = make_runner("openvino-int8", real, spec, threads=2, int8_ir=find_int8_ir(spec))
    plain = OpenVinoRunner(IR, COCO_18, threads=2, input_affine=(norm.mean, norm.std))
    assert INT8_FLOAT_LAYERS[:3] == ("conv1", "conv2_1/dw", "conv2_1/sep")  # the stem
    assert {name.split("_")[0] for name in INT8_FLOAT_LAYERS[3:]} == {"Mconv6", "Mconv7"}  # the last two of each branch
    precisions = _runtime_precisions(mixed)
    # the CPU plugin picks u8 or i8 per convolution by the processor's instructions (AMX machines run some as i8)
    assert len(precisions) == 58 and set(_runtime_precisions(plain).values()) <= INT8
    assert {name: precisions[name] for name in INT8_FLOAT_LAYERS} == dict.fromkeys(INT8_FLOAT_LAYERS, "f32")
    assert {p for name, p in precisions.items() if name not in INT8_FLOAT_LAYERS} <= INT8
    # on real photos the float layers bring the maps closer to the float32 network's than the plain IR's
    reference = TorchRunner(real)
    errors = {"mixed": 0.0, "plain": 0.0}
    for x in dev_inputs:
        ref = reference(x)
        for key, runner in (("mixed", mixed), ("plain", plain)):
            out = runner(x)
            errors[key] += float((out.heatmaps - ref.heatmaps).abs().mean() + (out.pafs - ref.pafs).abs().mean())
    assert errors["mixed"] < 0.9 * errors["plain"], errors
    # an IR the user names as the weights file may call its layers otherwise: it runs wholly in INT8
    user = make_runner("openvino-int8", real, spec, threads=2, weights=IR)
    assert set(_runtime_precisions(user).values()) <= INT8
    with pytest.raises(WeightsError, match="no convolution named 'conv9'"):
        OpenVinoRunner(IR, COCO_18, input_affine=(norm.mean, norm.std), float_layers=("conv9",))


_SIGNAL_AFTER_RUNNERS = """
import os, signal, sys, time
from openpose_py import COCO_18, PoseEstimator
from openpose_py.backends import OpenVinoRunner

first = OpenVinoRunner(sys.argv[1], COCO_18, threads=1)
second = OpenVinoRunner(sys.argv[1], COCO_18, threads=1)
del first, second  # freed in the order they were made
signal.signal(signal.SIGCHLD, lambda *_: None)  # as a DataLoader does
if os.fork() == 0:
    os._exit(0)
time.sleep(0.5)
print("alive")
"""


def test_runners_freed_in_creation_order_leave_signal_handling_intact(tiny_onnx):
    # with one OpenVINO Core per runner, the second runner's freed plugin left the thread's signal stack pointing at
    # unmapped memory, and the next Python signal handler killed the process with SIGSEGV (openvino_core's docstring)
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _SIGNAL_AFTER_RUNNERS, str(tiny_onnx)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "alive", (done.returncode, done.stderr[-2000:])


def test_openvino_runs_overlapping_calls_side_by_side_with_the_same_outputs(tiny_onnx):
    """One call at a time runs on the latency request; once calls overlap (a collection's batches in flight at once),
    the runner switches to its streams, and each call still gets its own input's maps."""
    runner = OpenVinoRunner(tiny_onnx, COCO_18, threads=2)
    generator = torch.Generator().manual_seed(2)
    inputs = [torch.randn(1, 3, 96, 128, generator=generator) for _ in range(4)]
    expected = [runner(x) for x in inputs]
    assert runner.streams == 1, "calls one after another keep the latency request"
    start = threading.Barrier(2)
    wrong: list[int] = []

    def work(offset: int) -> None:
        start.wait()
        for i in range(60):
            k = (i + offset) % len(inputs)
            out = runner(inputs[k])
            if max(max_abs_difference(out, expected[k]).values()) > 1e-5:
                wrong.append(k)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert runner.streams == 2 and not wrong
