"""OpenVINO on the CPU: the runner (ONNX files or IRs, float32 or the INT8 IR with its stem kept in float32) and the
process-wide ``openvino.Core``."""

from __future__ import annotations

import functools
import logging
import os
import queue
import sys
import threading
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np
import torch
from torch import Tensor

from ..errors import WeightsError
from ..models.outputs import StageOutput
from ..skeleton import Skeleton
from .registry import RunnerOptions
from .torch_runner import as_numpy

__all__ = ["INT8_FLOAT_LAYERS", "INT8_STEM", "STREAMS", "OpenVinoRunner", "openvino_core", "find_int8_ir",
           "build_openvino", "build_openvino_int8", "import_openvino"]

log = logging.getLogger(__name__)

#: Convolutions of the hpe-0001 INT8 IR that ``openvino-int8`` runs in float32: the stem (its first three, at stride
#: 2; quantising their inputs alone moves the decoded people about as far from float32 as quantising every layer) and
#: the last two of each branch of the refinement stage, which write the heatmaps and PAFs the decoder reads (with
#: them in INT8, OCHuman at height 256 lost 0.039 AP on average over 8 image shifts; in float the default stays
#: within 0.005 AP of float32 on every annotated set: docs/benchmarks.md, "INT8 that keeps float32 accuracy", found by
#: scripts/int8_layers.py). Together 2.2% of the network's multiply-adds (the stem 1.2%).
INT8_FLOAT_LAYERS: tuple[str, ...] = (
    "conv1", "conv2_1/dw", "conv2_1/sep",
    "Mconv6_stage2_L1/WithoutBiases", "Mconv7_stage2_L1/WithoutBiases",
    "Mconv6_stage2_L2/WithoutBiases", "Mconv7_stage2_L2/WithoutBiases",
)
#: The stem alone (the first three of :data:`INT8_FLOAT_LAYERS`), the float layers of the default before the output
#: layers joined them: what scripts/int8_layers.py ranks the other layers against.
INT8_STEM: tuple[str, ...] = INT8_FLOAT_LAYERS[:3]
#: Inputs an OpenVINO runner runs side by side once its calls overlap (see :class:`OpenVinoRunner`).
STREAMS = 2


class OpenVinoRunner:
    """OpenVINO on the CPU over an ONNX file or an IR (``.xml``), with dynamic batch/height/width.

    The two outputs are told apart by channel count (``skeleton.num_heatmaps`` vs ``skeleton.num_pafs``), so an IR
    with its own output names works unchanged. An IR that normalises raw pixels itself (hpe-0001:
    ``pixel / 255 - 128 / 255``) is given ``input_affine=(mean, std)`` of the project's pre-processing: the IR's
    leading Multiply/Add is cut away when it equals that normalisation, so the runner takes the same normalised input
    as every other runner. ``float_layers`` names convolutions of a quantised IR to run in float (see
    :func:`_keep_float`); ``precision`` is the precision of every layer that is not quantised. ``cache`` is a folder
    where OpenVINO keeps compiled networks: a later start reuses them (compiling the INT8 IR took 0.9 s, loading it
    from the cache 0.3 s); None compiles every time.

    Calls may come from several threads at once. One call at a time runs on one infer request compiled for latency
    (every thread on the one input: the shortest path for a single photo). The first time a call comes while another
    is running (a collection or a video whose batches overlap, :mod:`openpose_py.video.overlap`), the network is
    compiled a second time with :data:`STREAMS` streams, the threads split between them, and from then on every call
    takes one of its infer requests: two inputs run side by side, each on its own cores (measured against one batch
    at a time in docs/benchmarks.md, "Collections and video: two batches in flight": a gain on video, mixed on photo
    collections, on a busy machine).
    """

    name = "openvino"

    def __init__(self, path: str | Path, skeleton: Skeleton, *, threads: int | None = None,
                 input_affine: tuple[float, float] | None = None, precision: Literal["f32", "bf16"] = "f32",
                 float_layers: Sequence[str] = (), name: str = "openvino", cache: str | Path | None = None):
        ov = import_openvino()

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
        if cache is not None and _writable(Path(cache)):
            config["CACHE_DIR"] = str(cache)
        self.compiled = core.compile_model(model, "CPU", config)
        self._request = self.compiled.create_infer_request()
        self._model, self._config = model, config
        self._lock = threading.Lock()
        self._solo_busy = False
        self._pool: queue.Queue | None = None  # the streams' infer requests, once calls have overlapped

    @property
    def streams(self) -> int:
        """Inputs the runner runs side by side: 1, or :data:`STREAMS` once calls have overlapped."""
        return 1 if self._pool is None else self._pool.maxsize

    def __call__(self, x: Tensor) -> StageOutput:
        request, pool = self._acquire()
        try:
            request.infer({0: as_numpy(x)})
            heatmaps = request.get_output_tensor(self._order[0]).data.copy()
            pafs = request.get_output_tensor(self._order[1]).data.copy()
        finally:
            if pool is None:
                self._solo_busy = False
            else:
                pool.put(request)
        return StageOutput(torch.from_numpy(heatmaps), torch.from_numpy(pafs))

    def _acquire(self):
        """(infer request, the pool to give it back to or None for the latency request) for one call."""
        with self._lock:
            if self._pool is None and not self._solo_busy:
                self._solo_busy = True
                return self._request, None
            if self._pool is None:
                self._pool = self._streams_pool()
            pool = self._pool
        return pool.get(), pool

    def _streams_pool(self) -> queue.Queue:
        """The network compiled for :data:`STREAMS` inputs at once, as a pool of one infer request per stream."""
        threads = self._config.get("INFERENCE_NUM_THREADS")
        config = {**self._config, "PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": STREAMS}
        compiled = openvino_core().compile_model(self._model, "CPU", config)
        streams = int(compiled.get_property("NUM_STREAMS"))
        log.info("inputs overlap: OpenVINO runs %d streams (%s threads)", streams, threads or "all")
        pool: queue.Queue = queue.Queue(maxsize=streams)
        for _ in range(streams):
            pool.put(compiled.create_infer_request())
        return pool


def _writable(folder: Path) -> bool:
    """Whether compiled networks can be kept in ``folder`` (created if needed); a read-only cache only costs time."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.info("not caching compiled OpenVINO networks in %s: %s", folder, exc.strerror or exc)
        return False
    return os.access(folder, os.W_OK)


def import_openvino():
    """The ``openvino`` module, imported with its usage telemetry off for this process.

    Importing openvino starts Intel's telemetry (``openvino_telemetry``): with no consent file it writes a client
    id and usage counts under ``~/intel`` and queues events to send. A pose estimator should not leave identifiers in
    a user's home, so before the first import this process's consent check answers "declined"; the user's own
    setting (``~/intel/openvino_telemetry``, ``opt_in_out --opt_in``) is neither read nor changed, and a program that
    imported openvino before us keeps what it had.
    """
    if "openvino" not in sys.modules:
        try:
            from openvino_telemetry.utils.opt_in_checker import ConsentCheckResult, OptInChecker
        except ImportError:  # no telemetry package: openvino uses its stub
            pass
        else:
            OptInChecker.check = lambda self, *args, **kwargs: ConsentCheckResult.DECLINED
    import openvino

    return openvino


@functools.lru_cache(maxsize=None)
def openvino_core():
    """The process's one ``openvino.Core``, shared by every OpenVINO runner and kept until exit.

    Each Core's CPU plugin installs its own alternate signal stack on the calling thread and, when freed, puts back
    the one it found only if its own is still current (openvino ``sigstack_manager.cpp``). Two Cores freed in the
    order they were made leave the thread's signal stack pointing at unmapped memory, and the next Python signal
    handler (a DataLoader's SIGCHLD, say) kills the process with SIGSEGV. One Core that lives as long as the process
    cannot be freed out of order; code that needs a Core of its own should take this one.
    """
    ov = import_openvino()

    return ov.Core()


def _strip_input_normalisation(model, mean: float, std: float):
    """Feed the IR's first non-normalising layer directly, after checking the removed Multiply/Add computes
    ``(pixel - mean) / std``; raises WeightsError otherwise (the runner's input would be normalised twice)."""
    ov = import_openvino()

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


def find_int8_ir(spec, weights: str | Path | None = None) -> Path | None:
    """The OpenVINO IR holding exactly the weights in use, or None.

    With an explicit ``weights`` file, that file if it is an IR (``.xml``); otherwise the registered entry's own
    ``openvino_ir`` source when it is present locally (hpe-0001's FP16-INT8 IR is what ``lightweight`` loads from,
    and it ships with the package). Nothing is downloaded here.
    """
    if weights is not None:
        path = Path(weights)
        return path if path.suffix.lower() == ".xml" else None
    if not any(s.format == "openvino_ir" and not s.companion for s in spec.sources):
        return None
    from ..weights.store import find_local

    for found in find_local(spec):
        if found.source.format == "openvino_ir" and not found.source.companion and found.status in ("ok", "unverified"):
            return found.path
    return None


def build_openvino(model, spec, options: RunnerOptions) -> OpenVinoRunner:
    """The ``openvino`` backend's builder (:mod:`.registry`): OpenVINO float32 on the network's cached ONNX export."""
    from .onnx import cached_onnx

    return OpenVinoRunner(cached_onnx(model, spec.name, options.cache), spec.skeleton, threads=options.threads,
                          cache=_compiled_cache(options.cache))


def build_openvino_int8(model, spec, options: RunnerOptions) -> OpenVinoRunner:
    """The ``openvino-int8`` backend's builder (:mod:`.registry`): OpenVINO on the INT8 IR holding these weights,
    its stem and output layers (:data:`INT8_FLOAT_LAYERS`) in float32 for the registered IR."""
    ir = options.int8_ir if options.int8_ir is not None else find_int8_ir(spec, options.weights)
    if ir is None:
        raise WeightsError(f"no INT8 OpenVINO IR holds these {spec.name} weights (the openvino backend runs any "
                           "weights in float32)")
    layers = options.int8_float_layers
    if layers is None:
        layers = INT8_FLOAT_LAYERS if options.weights is None else ()
    norm = spec.preprocess
    return OpenVinoRunner(ir, spec.skeleton, threads=options.threads, input_affine=(norm.mean, norm.std),
                          float_layers=layers, name="openvino-int8", cache=_compiled_cache(options.cache))


def _compiled_cache(cache: str | Path | None) -> Path:
    from ..weights.places import cache_dir

    return Path(cache or cache_dir()) / "openvino"
