"""Network runners and exports: every CPU backend reproduces the torch network on real weights and images."""

from __future__ import annotations

import copy
import threading

import numpy as np
import pytest
import torch

from openpose_py import COCO_18, PoseEstimator
from openpose_py.backends import (
    INT8_FLOAT_LAYERS, OnnxRuntimeRunner, OpenVinoRunner, TorchRunner, cached_onnx, export_onnx, export_torchscript,
    find_int8_ir, make_runner, max_abs_difference, openvino_core, to_device,
)
from openpose_py.errors import WeightsError
from openpose_py.models.lightweight import lightweight
from openpose_py.images import load_image
from openpose_py.preprocess import PreprocessSpec, preprocess

from .conftest import DEV_SET, WEIGHTS_DIR

HPE = WEIGHTS_DIR / "hpe-0001"
IR = HPE / "human-pose-estimation-0001.xml"
DEV_IMAGES = DEV_SET / "images"
SPEC = PreprocessSpec(mean=128.0, std=255.0, height=368)

needs_weights = pytest.mark.skipif(not IR.is_file(), reason="hpe-0001 weights not available")


class _Spec:
    """The fields of a WeightsSpec that make_runner reads."""

    name = "tiny"
    skeleton = COCO_18
    preprocess = SPEC
    sources = ()


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return lightweight(width=0.125).eval()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def tiny_onnx(tiny, cache):
    return cached_onnx(tiny, "tiny", cache)


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


@pytest.fixture(scope="module")
def real(lightweight_estimator):
    return lightweight_estimator.model


@pytest.fixture(scope="module")
def dev_images():
    return [load_image(p) for p in sorted(DEV_IMAGES.glob("*.jpg"))[:2]]


@pytest.fixture(scope="module")
def dev_inputs(lightweight_estimator, dev_images):
    return [preprocess(im, lightweight_estimator.preprocess_spec)[0] for im in dev_images]


@needs_weights
def test_onnx_backends_match_torch_on_dev_images(real, dev_inputs, tmp_path):
    path = cached_onnx(real, "lightweight", tmp_path)
    reference = TorchRunner(real)
    for runner in (OnnxRuntimeRunner(path, threads=2), OpenVinoRunner(path, COCO_18, threads=2)):
        for x in dev_inputs:
            diff = max_abs_difference(reference(x), runner(x))
            assert max(diff.values()) < 1e-3, (runner.name, diff)


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


@needs_weights
def test_int8_backend_runs_the_stem_in_float_and_is_closer_to_float32(lightweight_estimator, real, dev_inputs):
    spec = lightweight_estimator.spec
    norm = spec.preprocess
    mixed = make_runner("openvino-int8", real, spec, threads=2, int8_ir=find_int8_ir(spec))
    plain = OpenVinoRunner(IR, COCO_18, threads=2, input_affine=(norm.mean, norm.std))
    assert INT8_FLOAT_LAYERS == ("conv1", "conv2_1/dw", "conv2_1/sep")
    precisions = _runtime_precisions(mixed)
    assert len(precisions) == 58 and set(_runtime_precisions(plain).values()) == {"u8"}
    assert {name: precisions[name] for name in INT8_FLOAT_LAYERS} == dict.fromkeys(INT8_FLOAT_LAYERS, "f32")
    assert {p for name, p in precisions.items() if name not in INT8_FLOAT_LAYERS} == {"u8"}
    # on real photos the float stem brings the maps closer to the float32 network's (about 0.8x the plain IR's error)
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
    assert set(_runtime_precisions(user).values()) == {"u8"}
    with pytest.raises(WeightsError, match="no convolution named 'conv9'"):
        OpenVinoRunner(IR, COCO_18, input_affine=(norm.mean, norm.std), float_layers=("conv9",))


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


def test_inputs_stay_put_on_the_cpu():
    x = torch.zeros(1, 3, 16, 16)
    assert to_device(x, torch.device("cpu")) is x  # no copy, no pinning
    assert to_device(x, torch.device("meta")).device.type == "meta"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_uploads_are_pinned_and_cudnn_autotunes(tiny):
    x = torch.zeros(1, 3, 16, 16)
    y = to_device(x, torch.device("cuda"))
    assert y.is_cuda and not x.is_pinned()  # the caller's tensor is left as it was; the staging copy is pinned
    torch.backends.cudnn.benchmark = False
    runner = TorchRunner(copy.deepcopy(tiny).cuda())
    assert torch.backends.cudnn.benchmark
    out = runner(x)
    assert out.heatmaps.is_cuda and out.heatmaps.dtype == torch.float32


def test_torch_runner_options(tiny):
    x = torch.randn(1, 3, 48, 64, generator=torch.Generator().manual_seed(3))
    ref = TorchRunner(tiny)(x)
    half = TorchRunner(tiny, dtype=torch.bfloat16)(x)
    assert half.heatmaps.dtype == torch.float32
    assert 0.0 < max(max_abs_difference(ref, half).values()) < 0.1  # really ran in bf16, and still close
    torch.manual_seed(0)
    other = lightweight(width=0.125).eval()  # channels_last converts in place: use a copy
    last = TorchRunner(other, channels_last=True)(x)
    assert max(max_abs_difference(ref, last).values()) < 1e-4


def test_make_runner_choices_and_errors(tiny, tiny_onnx, cache):
    assert make_runner("torch", tiny, _Spec).name == "torch"
    ort_runner = make_runner("onnxruntime", tiny, _Spec, cache=cache)
    ov_runner = make_runner("openvino", tiny, _Spec, cache=cache, threads=1)
    assert isinstance(ort_runner, OnnxRuntimeRunner) and ort_runner.path == tiny_onnx
    assert isinstance(ov_runner, OpenVinoRunner) and ov_runner.path == tiny_onnx  # one export serves both
    with pytest.raises(ValueError, match="unknown backend"):
        make_runner("tensorrt", tiny, _Spec)
    with pytest.raises(ValueError, match="torch backend only"):
        make_runner("onnxruntime", tiny, _Spec, dtype=torch.bfloat16, cache=cache)
    with pytest.raises(WeightsError, match="no INT8 OpenVINO IR holds"):
        make_runner("openvino-int8", tiny, _Spec)


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
