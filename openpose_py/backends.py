"""Network runners: the step that maps a normalised input batch to the final stage's heatmaps and PAFs.

``PoseEstimator`` pre-processes and decodes; between the two it calls a :class:`NetworkRunner`. The torch runner
runs the ``nn.Module`` itself (any device, optional bf16/fp16 autocast, channels_last, ``torch.compile``); the CPU
runners run an exported ONNX graph in ONNX Runtime or OpenVINO, or OpenVINO on a weights entry's own INT8 IR.

Backends (:data:`BACKENDS`):

- ``torch``: the module as loaded.
- ``onnxruntime``: the network exported to ONNX (dynamic batch, height and width), cached on disk.
- ``openvino``: the same ONNX file compiled by OpenVINO for the CPU (float32).
- ``openvino-int8``: OpenVINO on the INT8 IR that a weights entry lists as an ``openvino_ir`` source (hpe-0001),
  mixed precision: the convolutions in :data:`INT8_FLOAT_LAYERS` (the stem, about 1% of the multiply-adds) run in
  float32, every other quantised layer in INT8 (an IR given as the weights file runs all of them in INT8). Only valid
  when the network's weights are that entry's own; its outputs differ from float32 by the quantisation of the
  remaining layers' inputs.

Shapes: x (B, 3, H, W) float32 normalised as the weights' ``PreprocessSpec`` says; outputs (B, K+1, H/8, W/8)
heatmaps and (B, 2L, H/8, W/8) PAFs, float32.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import warnings
from pathlib import Path
from typing import Any, Literal, Protocol, Sequence, runtime_checkable

import numpy as np
import torch
from torch import Tensor, nn

from .atomic import atomic_path
from .errors import WeightsError
from .models.outputs import StageOutput, final_output
from .skeleton import Skeleton

__all__ = [
    "BACKENDS", "Backend", "NetworkRunner", "TorchRunner", "OnnxRuntimeRunner", "OpenVinoRunner", "make_runner",
    "export_onnx", "export_torchscript", "cached_onnx", "find_int8_ir", "backend_runner", "max_abs_difference",
    "ONNX_OPSET", "INT8_FLOAT_LAYERS", "to_device", "openvino_core",
]

log = logging.getLogger(__name__)

Backend = Literal["torch", "onnxruntime", "openvino", "openvino-int8"]
BACKENDS: tuple[str, ...] = ("torch", "onnxruntime", "openvino", "openvino-int8")
ONNX_OPSET = 17
INPUT_NAME = "image"
OUTPUT_NAMES = ("heatmaps", "pafs")
#: Convolutions of the hpe-0001 INT8 IR that ``openvino-int8`` runs in float32: the stem (its first three, at stride
#: 2). Quantising their inputs alone moves the decoded people about as far from float32 as quantising every layer;
#: in float they add about 6% to the INT8 network's time.
INT8_FLOAT_LAYERS: tuple[str, ...] = ("conv1", "conv2_1/dw", "conv2_1/sep")


@runtime_checkable
class NetworkRunner(Protocol):
    """Maps x (B, 3, H, W) float32, normalised, H and W multiples of 8, to the final stage's maps."""

    name: str

    def __call__(self, x: Tensor) -> StageOutput: ...


class _FinalStage(nn.Module):
    """Wraps a network so that it returns only (heatmaps, pafs) of its final stage: what export and runners need."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        out = final_output(self.net(x))
        return out.heatmaps, out.pafs


def to_device(x: Tensor, device: torch.device) -> Tensor:
    """Move a network input to ``device``. A CPU tensor bound for a GPU is staged in pinned (page-locked) memory, so
    the upload is asynchronous: it queues ahead of the network on the GPU while the host goes on."""
    if device.type == "cuda" and x.device.type == "cpu":
        x = x.pin_memory()
    return x.to(device, non_blocking=True)


class TorchRunner:
    """Runs the module itself.

    Args:
        model: the network (its device is where inputs go; it is switched to eval mode).
        dtype: None for float32, or ``torch.bfloat16``/``torch.float16`` to run under autocast (outputs are
            returned as float32 either way).
        channels_last: convert the model (in place) and the inputs to channels-last memory format.
        compile: wrap the model in ``torch.compile`` (dynamic shapes); the first calls are slow.
        cudnn_benchmark: on CUDA, let cuDNN time its convolution algorithms for each new input size and keep the
            fastest (sets the process-wide ``torch.backends.cudnn.benchmark``); ignored on other devices.
    """

    name = "torch"

    def __init__(self, model: nn.Module, *, dtype: torch.dtype | None = None, channels_last: bool = False,
                 compile: bool = False, cudnn_benchmark: bool = True):
        if dtype not in (None, torch.float32, torch.bfloat16, torch.float16):
            raise ValueError(f"unsupported dtype {dtype}; use float32, bfloat16 or float16")
        self.model = model.eval()
        param = next(model.parameters(), None)
        self.device = param.device if param is not None else torch.device("cpu")
        self.dtype = None if dtype == torch.float32 else dtype
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = cudnn_benchmark
        self.channels_last = channels_last
        if channels_last:
            self.model.to(memory_format=torch.channels_last)
        self._forward: nn.Module = _FinalStage(self.model)
        if compile:
            self._forward = torch.compile(self._forward, dynamic=True)

    def __call__(self, x: Tensor) -> StageOutput:
        x = to_device(x, self.device)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        autocast = (torch.autocast(self.device.type, dtype=self.dtype) if self.dtype is not None
                    else contextlib.nullcontext())
        with torch.inference_mode(), autocast:
            heatmaps, pafs = self._forward(x)
        return StageOutput(heatmaps.float(), pafs.float())


class OnnxRuntimeRunner:
    """ONNX Runtime on the CPU over an exported network (inputs/outputs named ``image`` -> ``heatmaps``, ``pafs``)."""

    name = "onnxruntime"

    def __init__(self, path: str | Path, *, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # idle workers sleep instead of spinning: the video pipeline's reader/writer threads need those cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, x: Tensor) -> StageOutput:
        heatmaps, pafs = self.session.run(list(OUTPUT_NAMES), {INPUT_NAME: _as_numpy(x)})
        return StageOutput(torch.from_numpy(heatmaps), torch.from_numpy(pafs))


class OpenVinoRunner:
    """OpenVINO on the CPU over an ONNX file or an IR (``.xml``), with dynamic batch/height/width.

    The two outputs are told apart by channel count (``skeleton.num_heatmaps`` vs ``skeleton.num_pafs``), so an IR
    with its own output names works unchanged. An IR that normalises raw pixels itself (hpe-0001:
    ``pixel / 255 - 128 / 255``) is given ``input_affine=(mean, std)`` of the project's pre-processing: the IR's
    leading Multiply/Add is cut away when it equals that normalisation, so the runner takes the same normalised input
    as every other runner. ``float_layers`` names convolutions of a quantised IR to run in float (see
    :func:`_keep_float`); ``precision`` is the precision of every layer that is not quantised.
    """

    name = "openvino"

    def __init__(self, path: str | Path, skeleton: Skeleton, *, threads: int | None = None,
                 input_affine: tuple[float, float] | None = None, precision: Literal["f32", "bf16"] = "f32",
                 float_layers: Sequence[str] = (), name: str = "openvino"):
        import openvino as ov

        self.name = name
        self.path = Path(path)
        core = openvino_core()
        model = core.read_model(str(path))
        if input_affine is not None:
            model = _strip_input_normalisation(model, *input_affine)
        if float_layers:
            model = _keep_float(model, float_layers)
        model.reshape({model.inputs[0]: ov.PartialShape([-1, 3, -1, -1])})
        channels = [out.get_partial_shape()[1].get_length() for out in model.outputs]
        try:
            self._order = (channels.index(skeleton.num_heatmaps), channels.index(skeleton.num_pafs))
        except ValueError:
            raise WeightsError(f"{path}: outputs have {channels} channels, {skeleton.name} needs "
                               f"{skeleton.num_heatmaps} heatmaps and {skeleton.num_pafs} PAFs") from None
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": precision}
        if threads is not None:
            config["INFERENCE_NUM_THREADS"] = threads
        self.compiled = core.compile_model(model, "CPU", config)
        self._request = self.compiled.create_infer_request()

    def __call__(self, x: Tensor) -> StageOutput:
        self._request.infer({0: _as_numpy(x)})
        heatmaps = self._request.get_output_tensor(self._order[0]).data.copy()
        pafs = self._request.get_output_tensor(self._order[1]).data.copy()
        return StageOutput(torch.from_numpy(heatmaps), torch.from_numpy(pafs))


@functools.lru_cache(maxsize=None)
def openvino_core():
    """The process's one ``openvino.Core``, shared by every OpenVINO runner and kept until exit.

    Each Core's CPU plugin installs its own alternate signal stack on the calling thread and, when freed, puts back
    the one it found only if its own is still current (openvino ``sigstack_manager.cpp``). Two Cores freed in the
    order they were made leave the thread's signal stack pointing at unmapped memory, and the next Python signal
    handler (a DataLoader's SIGCHLD, say) kills the process with SIGSEGV. One Core that lives as long as the process
    cannot be freed out of order; code that needs a Core of its own should take this one.
    """
    import openvino as ov

    return ov.Core()


def _as_numpy(x: Tensor) -> np.ndarray:
    return np.ascontiguousarray(x.detach().to("cpu", torch.float32).numpy())


def _strip_input_normalisation(model, mean: float, std: float):
    """Feed the IR's first non-normalising layer directly, after checking the removed Multiply/Add computes
    ``(pixel - mean) / std``; raises WeightsError otherwise (the runner's input would be normalised twice)."""
    import openvino as ov

    param = model.get_parameters()[0]
    node = param.output(0).get_target_inputs().pop().get_node()
    if node.get_type_name() == "Convert":
        node = node.output(0).get_target_inputs().pop().get_node()
    add = next(iter(node.output(0).get_target_inputs())).get_node() if node.get_type_name() == "Multiply" else None
    if add is None or add.get_type_name() != "Add":
        raise WeightsError("the IR does not start with a Multiply/Add normalisation to remove")
    mul_const = _constant_input(node)
    add_const = _constant_input(add)
    # the IR stores its constants in float16: compare at that precision
    if not (np.allclose(mul_const, 1.0 / std, rtol=2e-3) and np.allclose(add_const, -mean / std, rtol=2e-3)):
        raise WeightsError(f"the IR normalises as x * {mul_const.ravel()[0]:.5g} + {add_const.ravel()[0]:.5g}, "
                           f"not (x - {mean}) / {std}")
    fresh = ov.opset13.parameter(ov.PartialShape([-1, 3, -1, -1]), ov.Type.f32, name=param.get_friendly_name())
    feed = fresh.output(0)
    if add.get_output_element_type(0) != ov.Type.f32:  # an FP16 IR computes in half precision after its input
        feed = ov.opset13.convert(fresh, add.get_output_element_type(0)).output(0)
    add.output(0).replace(feed)
    return ov.Model(model.get_results(), [fresh], model.get_friendly_name())


def _keep_float(model, layers: Sequence[str]):
    """Make the named convolutions of a quantised IR run in float: each one reads its input from before the
    FakeQuantize that feeds it (that FakeQuantize's other consumers, if any, keep it). OpenVINO's low-precision pass
    then leaves the layer unquantised, and the FakeQuantize of its weights folds into a float constant holding the
    same values. A named layer whose input is not quantised is left as it is; raises WeightsError when a name is not
    a convolution of the IR."""
    ops = {op.get_friendly_name(): op for op in model.get_ordered_ops()}
    for name in layers:
        conv = ops.get(name)
        if conv is None or conv.get_type_name() not in ("Convolution", "GroupConvolution"):
            raise WeightsError(f"the IR has no convolution named {name!r} to keep in float")
        source = conv.input_value(0).get_node()
        if source.get_type_name() == "FakeQuantize":
            conv.input(0).replace_source_output(source.input_value(0))
    model.validate_nodes_and_infer_types()
    return model


def _constant_input(node) -> np.ndarray:
    for port in node.inputs():
        src = port.get_source_output().get_node()
        if src.get_type_name() == "Constant":
            return src.get_data().astype(np.float64)
    raise WeightsError(f"IR layer {node.get_friendly_name()} has no constant operand")


# ---- export ---------------------------------------------------------------------------------------------------------

def _example_input(model: nn.Module, size: tuple[int, int]) -> Tensor:
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    generator = torch.Generator().manual_seed(0)
    return torch.randn(1, 3, size[1], size[0], generator=generator).to(device)


def _write_atomic(path: Path, write) -> Path:
    """Call ``write(tmp_path)`` and move the result onto ``path``; a failure leaves no partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        write(tmp)
    return path


def export_onnx(model: nn.Module, path: str | Path, *, example_size: tuple[int, int] = (456, 256),
                opset: int = ONNX_OPSET, dynamic: bool = True) -> Path:
    """Write the network's final stage as ONNX: input ``image`` (B, 3, H, W) -> ``heatmaps``, ``pafs``.

    Args:
        example_size: (width, height) of the tracing input; with ``dynamic`` any multiple of 8 works afterwards.
        dynamic: batch, height and width as symbolic dimensions (otherwise fixed to the example).
    """
    wrapper = _FinalStage(model).eval()
    x = _example_input(model, example_size)
    axes = None
    if dynamic:
        spatial = {0: "batch", 2: "height", 3: "width"}
        maps = {0: "batch", 2: "height_8", 3: "width_8"}
        axes = {INPUT_NAME: spatial, OUTPUT_NAMES[0]: maps, OUTPUT_NAMES[1]: maps}

    def write(tmp: Path) -> None:
        # the TorchScript-based exporter needs no onnxscript; its deprecation notice is not the user's concern
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(wrapper, (x,), str(tmp), dynamo=False, input_names=[INPUT_NAME],
                              output_names=list(OUTPUT_NAMES), dynamic_axes=axes, opset_version=opset)

    return _write_atomic(Path(path), write)


def export_torchscript(model: nn.Module, path: str | Path, *, example_size: tuple[int, int] = (456, 256)) -> Path:
    """Write the network's final stage as a traced TorchScript module: ``m(x) -> (heatmaps, pafs)``."""
    wrapper = _FinalStage(model).eval()
    x = _example_input(model, example_size)

    def write(tmp: Path) -> None:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.jit.trace(wrapper, (x,), check_trace=False).save(str(tmp))

    return _write_atomic(Path(path), write)


def _weights_digest(model: nn.Module) -> str:
    digest = hashlib.sha256(f"{type(model).__qualname__}|torch {torch.__version__}|opset {ONNX_OPSET}".encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().to("cpu").contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def cached_onnx(model: nn.Module, name: str, directory: str | Path | None = None) -> Path:
    """The ONNX export of ``model``, made once and reused: keyed by its weights, class, torch version and opset.

    The file lives under ``directory`` or the weights cache (``$OPENPOSE_PY_CACHE_DIR``), in ``onnx/``.
    """
    from .weights import cache_dir

    path = Path(directory or cache_dir()) / "onnx" / f"{name}-{_weights_digest(model)}.onnx"
    if not path.is_file():
        log.info("exporting %s to %s", name, path)
        export_onnx(model, path)
    return path


def max_abs_difference(a: StageOutput, b: StageOutput) -> dict[str, float]:
    """Largest absolute difference per branch between two outputs of the same input."""
    return {
        "heatmaps": float((a.heatmaps.float().cpu() - b.heatmaps.float().cpu()).abs().max()),
        "pafs": float((a.pafs.float().cpu() - b.pafs.float().cpu()).abs().max()),
    }


# ---- factory ------------------------------------------------------------------------------------------------------

def make_runner(backend: str, model: nn.Module, spec, *, threads: int | None = None,
                cache: str | Path | None = None, int8_ir: str | Path | None = None,
                int8_float_layers: Sequence[str] = INT8_FLOAT_LAYERS,
                dtype: torch.dtype | None = None, channels_last: bool = False,
                compile: bool = False) -> NetworkRunner:
    """Build the runner for ``backend`` (see :data:`BACKENDS`).

    Args:
        model: the loaded network (used directly by ``torch``, exported for the ONNX-based backends).
        spec: its ``WeightsSpec`` (skeleton, pre-processing, cache file name).
        threads: CPU threads of the ONNX Runtime/OpenVINO runners (torch uses ``torch.set_num_threads``).
        cache: folder for exported files (default: the weights cache, ``$OPENPOSE_PY_CACHE_DIR``).
        int8_ir: the INT8 IR ``.xml`` for ``openvino-int8``: the resolved ``openvino_ir`` source of ``spec``, which
            must hold the same weights as ``model``.
        int8_float_layers: convolutions of that IR to run in float32 (default :data:`INT8_FLOAT_LAYERS`, named as in
            the registered hpe-0001 IR; ``()`` runs every quantised layer in INT8).
        dtype, channels_last, compile: options of :class:`TorchRunner`.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend == "torch":
        return TorchRunner(model, dtype=dtype, channels_last=channels_last, compile=compile)
    if dtype not in (None, torch.float32) or channels_last or compile:
        raise ValueError(f"dtype, channels_last and compile apply to the torch backend only, not {backend}")
    if backend == "openvino-int8":
        if int8_ir is None:
            raise WeightsError(f"no INT8 OpenVINO IR holds these {spec.name} weights (the openvino backend runs any "
                               "weights in float32)")
        norm = spec.preprocess
        return OpenVinoRunner(int8_ir, spec.skeleton, threads=threads, input_affine=(norm.mean, norm.std),
                              float_layers=int8_float_layers, name=backend)
    onnx_path = cached_onnx(model, spec.name, cache)
    if backend == "onnxruntime":
        return OnnxRuntimeRunner(onnx_path, threads=threads)
    return OpenVinoRunner(onnx_path, spec.skeleton, threads=threads)


def find_int8_ir(spec, weights: str | Path | None = None) -> Path | None:
    """The OpenVINO IR holding exactly the weights in use, or None.

    With an explicit ``weights`` file, that file if it is an IR (``.xml``); otherwise the registered entry's own
    ``openvino_ir`` source when it resolves locally (hpe-0001's FP16-INT8 IR is what ``lightweight`` loads from).
    """
    if weights is not None:
        path = Path(weights)
        return path if path.suffix.lower() == ".xml" else None
    if not any(s.format == "openvino_ir" and not s.companion for s in spec.sources):
        return None
    from .weights import resolve

    path = resolve(spec.name)
    return path if path.suffix.lower() == ".xml" else None


def backend_runner(backend: str, model: nn.Module, spec, *, device: str | torch.device = "cpu",
                   threads: int | None = None, weights: str | Path | None = None) -> NetworkRunner | None:
    """The runner ``PoseEstimator`` should use for ``backend`` (None: run ``model`` itself with torch).

    Args:
        weights: the explicit weights file the model was loaded from, if any (it decides which IR ``openvino-int8``
            may use; a user's IR runs every quantised layer in INT8).
    """
    if backend == "torch":
        return None
    if torch.device(device).type != "cpu":
        raise ValueError(f"the {backend} backend runs on the CPU, not on {device}")
    ir = find_int8_ir(spec, weights) if backend == "openvino-int8" else None
    # an IR given by the user may name its layers otherwise: only the registered IR's stem is known to keep in float
    float_layers = INT8_FLOAT_LAYERS if weights is None else ()
    return make_runner(backend, model, spec, threads=threads, int8_ir=ir, int8_float_layers=float_layers)

