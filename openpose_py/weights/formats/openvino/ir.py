"""OpenVINO IR (``.xml`` + ``.bin``) -> PyTorch state_dict, without the ``openvino`` package.

The IR is a graph of layers joined by edges; weights are ``Const`` layers whose bytes sit in the ``.bin`` at an
offset. A convolution's weight input is a small constant sub-graph: in the FP16-INT8 Open Model Zoo files it is
``Const(u8) -> Convert -> FakeQuantize(levels, input_low/high, output_low/high per output channel)`` (and a
``Reshape`` for grouped convs); in FP16/FP32 files a bare ``Const``; newer IRs use ``Convert -> Subtract ->
Multiply`` decompression. :func:`read_ir` folds every such sub-graph with numpy and returns float32 tensors keyed by
the convolution's layer name (``<layer>.weight``, plus ``<layer>.bias`` from the ``Add`` of a constant that follows
it). :mod:`.hpe0001` renames them for the ``lightweight`` network (variant ``hpe-0001``) and checks that the IR really
is that network.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ....errors import WeightsError, WeightsNotFoundError

__all__ = ["IRModel", "read_ir"]

log = logging.getLogger(__name__)

_DTYPES = {
    "f16": np.float16, "f32": np.float32, "f64": np.float64, "i8": np.int8, "u8": np.uint8, "i16": np.int16,
    "u16": np.uint16, "i32": np.int32, "u32": np.uint32, "i64": np.int64, "u64": np.uint64, "boolean": np.bool_,
}
_CONV_TYPES = ("Convolution", "GroupConvolution")


@dataclass(frozen=True, slots=True)
class IRModel:
    """What :func:`read_ir` extracts from an IR.

    Attributes:
        name: the ``<net name=...>`` attribute.
        version: IR version (10, 11, ...).
        input_shape: the ``Parameter`` layer's shape as written (e.g. (1, 3, 256, 456)).
        input_scale, input_shift: per-channel (C,) affine ``x * scale + shift`` the IR applies to its raw input
            before the first convolution, or None if it has none.
        tensors: float32 conv weights/biases keyed by IR layer name + ``.weight`` / ``.bias``; grouped conv weights
            in PyTorch's (C_out, C_in / groups, kh, kw) layout.
    """

    name: str
    version: int
    input_shape: tuple[int, ...]
    input_scale: np.ndarray | None
    input_shift: np.ndarray | None
    tensors: dict[str, torch.Tensor]


class _Graph:
    """The IR's layers and edges, with constant folding of weight sub-graphs."""

    def __init__(self, root: ET.Element, blob: memoryview, source: Path, bin_path: Path) -> None:
        self.source = source
        self.bin_path = bin_path
        self.blob = blob
        self.layers: dict[str, ET.Element] = {lay.get("id"): lay for lay in root.iterfind("layers/layer")}
        self.inputs: dict[str, dict[int, str]] = {}  # layer id -> {input port: producing layer id}
        self.consumers: dict[str, list[str]] = {}
        for edge in root.iterfind("edges/edge"):
            src, dst = edge.get("from-layer"), edge.get("to-layer")
            self.inputs.setdefault(dst, {})[int(edge.get("to-port"))] = src
            self.consumers.setdefault(src, []).append(dst)
        self._folded: dict[str, np.ndarray] = {}

    def type(self, lid: str) -> str:
        return self.layers[lid].get("type")

    def name(self, lid: str) -> str:
        return self.layers[lid].get("name")

    def arg(self, lid: str, port: int) -> str:
        return self.inputs[lid][sorted(self.inputs[lid])[port]]

    def is_constant(self, lid: str) -> bool:
        kind = self.type(lid)
        if kind == "Const":
            return True
        if kind in ("Convert", "FakeQuantize", "Reshape", "Multiply", "Subtract", "Add", "Unsqueeze", "Squeeze"):
            return all(self.is_constant(src) for src in self.inputs.get(lid, {}).values())
        return False

    def fold(self, lid: str) -> np.ndarray:
        """The value of a constant sub-graph ending at layer ``lid``."""
        if lid not in self._folded:
            self._folded[lid] = self._evaluate(lid)
        return self._folded[lid]

    def _evaluate(self, lid: str) -> np.ndarray:
        kind, layer = self.type(lid), self.layers[lid]
        data = layer.find("data")
        if kind == "Const":
            return self._read_const(layer)
        args = [self.fold(self.arg(lid, i)) for i in range(len(self.inputs[lid]))]
        # every node keeps the element type the IR declares (u8 -> Convert f16 -> FakeQuantize f16 ...); maths runs in
        # float64 and is rounded to that type, as the runtime would, so the float32 result matches OpenVINO's
        if kind == "Convert":
            return args[0].astype(_dtype(data.get("destination_type"), self.source))
        if kind == "FakeQuantize":
            wide = [a.astype(np.float64) for a in args]
            return _fake_quantize(*wide, levels=int(data.get("levels"))).astype(args[0].dtype)
        if kind in ("Reshape", "Unsqueeze", "Squeeze"):
            return _reshape(kind, args[0], args[1] if len(args) > 1 else None, data)
        ops = {"Multiply": np.multiply, "Subtract": np.subtract, "Add": np.add}
        if kind in ops:
            out_type = np.result_type(args[0], args[1])
            return ops[kind](args[0].astype(np.float64), args[1].astype(np.float64)).astype(out_type)
        raise WeightsError(f"{self.source}: unsupported constant operation {kind} in layer {self.name(lid)!r}")

    def _read_const(self, layer: ET.Element) -> np.ndarray:
        data = layer.find("data")
        dtype = _dtype(data.get("element_type"), self.source)
        offset, size = int(data.get("offset")), int(data.get("size"))
        shape_text = data.get("shape", "")
        shape = tuple(int(s) for s in shape_text.split(",") if s.strip()) if shape_text else ()
        if offset < 0 or offset + size > len(self.blob):
            raise WeightsError(f"{self.bin_path}: too short for constant {layer.get('name')!r} "
                               f"(needs bytes {offset}..{offset + size}, file has {len(self.blob)}); "
                               "truncated download?")
        count = size // np.dtype(dtype).itemsize
        if count != int(np.prod(shape, dtype=np.int64)):
            raise WeightsError(f"{self.source}: constant {layer.get('name')!r} has {count} values for shape {shape}")
        return np.frombuffer(self.blob, dtype=dtype, count=count, offset=offset).reshape(shape)


def _dtype(name: str, source: Path) -> type:
    if name not in _DTYPES:
        raise WeightsError(f"{source}: unsupported element type {name!r}")
    return _DTYPES[name]


def _fake_quantize(x: np.ndarray, in_low: np.ndarray, in_high: np.ndarray, out_low: np.ndarray,
                   out_high: np.ndarray, *, levels: int) -> np.ndarray:
    """OpenVINO FakeQuantize (opset1), elementwise with broadcasting of the per-channel ranges."""
    lo, hi = np.minimum(in_low, in_high), np.maximum(in_low, in_high)
    steps = np.round((x - in_low) / (in_high - in_low) * (levels - 1))
    out = steps / (levels - 1) * (out_high - out_low) + out_low
    out = np.where(x <= lo, out_low, out)
    return np.where(x > hi, out_high, out)


def _reshape(kind: str, x: np.ndarray, arg: np.ndarray | None, data: ET.Element | None) -> np.ndarray:
    if kind == "Reshape":
        target = [int(v) for v in np.asarray(arg).ravel()]
        if data is not None and data.get("special_zero", "false").lower() == "true":
            target = [x.shape[i] if v == 0 else v for i, v in enumerate(target)]
        return x.reshape(target)
    axes = [] if arg is None else [int(v) for v in np.asarray(arg).ravel()]
    if kind == "Unsqueeze":
        return np.expand_dims(x, tuple(axes))
    return np.squeeze(x, tuple(axes)) if axes else np.squeeze(x)


def _parse(xml_path: Path) -> ET.Element:
    try:
        root = ET.parse(xml_path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise WeightsError(f"{xml_path}: not a readable OpenVINO IR xml ({exc})") from None
    if root.tag != "net" or root.find("layers") is None or root.find("edges") is None:
        raise WeightsError(f"{xml_path}: not an OpenVINO IR xml (no <net> with <layers> and <edges>)")
    return root


def read_ir(xml_path: str | Path, bin_path: str | Path | None = None) -> IRModel:
    """Read an IR's convolution weights and biases as float32 (see :class:`IRModel`).

    ``bin_path`` defaults to the ``.bin`` beside the ``.xml``.
    """
    xml_path = Path(xml_path)
    bin_path = Path(bin_path) if bin_path is not None else xml_path.with_suffix(".bin")
    if not xml_path.is_file():
        raise WeightsNotFoundError(f"no such OpenVINO IR file: {xml_path}")
    if not bin_path.is_file():
        raise WeightsNotFoundError(f"OpenVINO IR {xml_path.name} needs its weights file: {bin_path} is missing")
    root = _parse(xml_path)
    try:
        graph = _Graph(root, memoryview(bin_path.read_bytes()), xml_path, bin_path)
        tensors = _conv_tensors(graph)
        scale, shift, shape = _input_affine(graph)
    except (KeyError, IndexError, AttributeError, TypeError, ValueError) as exc:
        # a hand-edited or foreign xml: missing attributes, dangling edges, shapes that do not multiply out
        raise WeightsError(f"{xml_path}: malformed OpenVINO IR ({type(exc).__name__}: {exc})") from None
    log.debug("read %d tensors from %s", len(tensors), xml_path)
    version = root.get("version", "")
    return IRModel(root.get("name", ""), int(version) if version.isdigit() else 0, shape, scale, shift, tensors)


def _conv_tensors(graph: _Graph) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    for lid, layer in graph.layers.items():
        kind = layer.get("type")
        if kind not in _CONV_TYPES:
            continue
        name = layer.get("name")
        weight_src = graph.arg(lid, 1)
        if not graph.is_constant(weight_src):
            raise WeightsError(f"{graph.source}: convolution {name!r} has non-constant weights")
        weight = graph.fold(weight_src)
        if kind == "GroupConvolution":  # (G, C_out/G, C_in/G, kh, kw) -> PyTorch's (C_out, C_in/G, kh, kw)
            weight = weight.reshape(-1, *weight.shape[2:])
        tensors[f"{name}.weight"] = torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32))
        bias = _bias_of(graph, lid, weight.shape[0])
        if bias is not None:
            tensors[f"{name}.bias"] = torch.from_numpy(np.ascontiguousarray(bias, dtype=np.float32))
    return tensors


def _bias_of(graph: _Graph, conv: str, channels: int) -> np.ndarray | None:
    """The per-channel constant added right after a convolution (folded batch norm or conv bias)."""
    consumers = graph.consumers.get(conv, [])
    if len(consumers) != 1 or graph.type(consumers[0]) != "Add":
        return None
    add = consumers[0]
    others = [src for src in graph.inputs[add].values() if src != conv]
    if len(others) != 1 or not graph.is_constant(others[0]):
        return None
    value = graph.fold(others[0])
    if value.size != channels:
        return None
    return value.reshape(channels)


def _input_affine(graph: _Graph) -> tuple[np.ndarray | None, np.ndarray | None, tuple[int, ...]]:
    params = [lid for lid, lay in graph.layers.items() if lay.get("type") == "Parameter"]
    if len(params) != 1:
        return None, None, ()
    data = graph.layers[params[0]].find("data")
    shape = tuple(int(s) for s in data.get("shape", "").split(",") if s.strip().lstrip("-").isdigit())
    channels = shape[1] if len(shape) == 4 else 1
    scale, shift = np.ones(channels), np.zeros(channels)
    node, found = params[0], False
    # follow the single chain of elementwise Multiply/Add with constants that the converter put before conv1
    while len(graph.consumers.get(node, [])) == 1:
        nxt = graph.consumers[node][0]
        if graph.type(nxt) not in ("Multiply", "Add"):
            break
        others = [src for src in graph.inputs[nxt].values() if src != node]
        if len(others) != 1 or not graph.is_constant(others[0]):
            break
        value = np.broadcast_to(graph.fold(others[0]).reshape(-1), (channels,)).astype(np.float64)
        if graph.type(nxt) == "Multiply":
            scale, shift = scale * value, shift * value
        else:
            shift = shift + value
        node, found = nxt, True
    return (scale, shift, shape) if found else (None, None, shape)
