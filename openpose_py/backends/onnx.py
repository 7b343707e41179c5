"""ONNX: export (and TorchScript export) of a network's final stage, the export cache, and the ONNX Runtime runner."""

from __future__ import annotations

import atexit
import functools
import hashlib
import logging
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Mapping

import torch
from torch import Tensor, nn

from ..atomic import atomic_path
from ..models.outputs import StageOutput
from .registry import RunnerOptions
from .torch_runner import FinalStage, as_numpy

__all__ = ["ONNX_OPSET", "INPUT_NAME", "OUTPUT_NAMES", "OnnxRuntimeRunner", "export_onnx", "export_torchscript",
           "cached_onnx", "onnx_metadata"]

log = logging.getLogger(__name__)

ONNX_OPSET = 17
INPUT_NAME = "image"
OUTPUT_NAMES = ("heatmaps", "pafs")


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
        heatmaps, pafs = self.session.run(list(OUTPUT_NAMES), {INPUT_NAME: as_numpy(x)})
        return StageOutput(torch.from_numpy(heatmaps), torch.from_numpy(pafs))


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
                opset: int = ONNX_OPSET, dynamic: bool = True, metadata: Mapping[str, str] | None = None) -> Path:
    """Write the network's final stage as ONNX: input ``image`` (B, 3, H, W) -> ``heatmaps``, ``pafs``.

    Args:
        example_size: (width, height) of the tracing input; with ``dynamic`` any multiple of 8 works afterwards.
        dynamic: batch, height and width as symbolic dimensions (otherwise fixed to the example).
        metadata: string entries for the model's ``metadata_props`` (the weights spec and its codec, say; needs
            the ``onnx`` package).
    """
    wrapper = FinalStage(model).eval()
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
        if metadata:
            _add_onnx_metadata(tmp, metadata)

    return _write_atomic(Path(path), write)


def _add_onnx_metadata(path: Path, metadata: Mapping[str, str]) -> None:
    import onnx

    graph = onnx.load(str(path))
    for key, value in metadata.items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(graph, str(path))


def onnx_metadata(path: str | Path) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file (what :func:`export_onnx` was given as ``metadata``)."""
    import onnx

    return {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}


def export_torchscript(model: nn.Module, path: str | Path, *, example_size: tuple[int, int] = (456, 256),
                       metadata: Mapping[str, str] | None = None) -> Path:
    """Write the network's final stage as a traced TorchScript module: ``m(x) -> (heatmaps, pafs)``; ``metadata``
    entries become extra files of the archive (``torch.jit.load(path, _extra_files={key: ""})`` reads them)."""
    wrapper = FinalStage(model).eval()
    x = _example_input(model, example_size)

    def write(tmp: Path) -> None:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.jit.trace(wrapper, (x,), check_trace=False).save(str(tmp), _extra_files=dict(metadata or {}))

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

    The file lives under ``directory`` or the weights cache (``$OPENPOSE_PY_CACHE_DIR``), in ``onnx/``, with its
    sha256 beside it: a damaged file (a full disk, an edit) is exported again. Where that folder cannot be written,
    the export goes to a temporary folder of this process instead, with a warning.
    """
    from ..weights.places import cache_dir, matches_record, record_converted

    path = Path(directory or cache_dir()) / "onnx" / f"{name}-{_weights_digest(model)}.onnx"
    if matches_record(path, "ONNX export"):
        return path
    log.info("exporting %s to %s", name, path)
    try:
        export_onnx(model, path)
        record_converted(path)
    except OSError as exc:
        scratch = _scratch_dir() / path.name
        log.warning("could not cache the ONNX export at %s (%s); using a temporary copy for this process", path,
                    exc.strerror or exc)
        return scratch if scratch.is_file() else export_onnx(model, scratch)
    return path


def build_onnxruntime(model: nn.Module, spec, options: RunnerOptions) -> OnnxRuntimeRunner:
    """The ``onnxruntime`` backend's builder (:mod:`.registry`): ONNX Runtime on the network's cached export."""
    return OnnxRuntimeRunner(cached_onnx(model, spec.name, options.cache), threads=options.threads)


@functools.lru_cache(maxsize=1)
def _scratch_dir() -> Path:
    """A folder of this process's own, removed when it exits."""
    folder = Path(tempfile.mkdtemp(prefix="openpose-py-onnx-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder
