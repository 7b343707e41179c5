"""Trained Caffe models (``.caffemodel``, a binary ``NetParameter``) -> state dicts of the project's networks.

The file is parsed with :mod:`google.protobuf` through the schema of :mod:`openpose_py.weights.formats.caffe.schema`; both
the ``layer`` field (100, ``LayerParameter``) and the legacy ``layers`` field (2, ``V1LayerParameter``) are read, and a
blob's shape comes from its ``BlobShape`` or from the legacy ``num/channels/height/width``. The i-th blob of layer
``name`` becomes ``name.weight`` (i = 0) or ``name.bias`` (i = 1): the CMU networks name their modules after the Caffe
layers, so conv weights (O, I, kH, kW), conv biases (O,) and PReLU slopes (C,) land where they belong.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
from google.protobuf.message import DecodeError
from torch import Tensor

from ....errors import ArchitectureMismatchError, WeightsError, WeightsNotFoundError
from ....models.vgg19_cmu import CMU_ARCHITECTURES
from ...registry import get_spec
from ...shapes import differences, expected_shapes
from .schema import V1_LAYER_TYPES, NetParameter

__all__ = ["CaffeLayer", "read_caffemodel", "caffe_state_dict", "load_caffemodel"]

logger = logging.getLogger(__name__)

_PARAM_NAMES = ("weight", "bias")
_SHOWN = 4  # names listed per category in a mismatch message before "+N more"
_V1_TYPE_NAMES = {number: name for name, number in V1_LAYER_TYPES.items()}


@dataclass(frozen=True, slots=True)
class CaffeLayer:
    """A layer of a trained Caffe model that carries blobs (float32 arrays, shaped as the file says)."""

    name: str
    type: str  # the layer's type string; for legacy V1 layers, the LayerType enum name (e.g. "CONVOLUTION")
    blobs: tuple[np.ndarray, ...]


def _blob_array(blob, where: str) -> np.ndarray:
    if len(blob.double_data):
        data = np.array(blob.double_data, dtype=np.float64).astype(np.float32)
    else:
        data = np.array(blob.data, dtype=np.float32)
    if blob.HasField("shape"):
        shape = tuple(blob.shape.dim)
    elif any(blob.HasField(f) for f in ("num", "channels", "height", "width")):
        shape = (blob.num, blob.channels, blob.height, blob.width)
    else:
        shape = (data.size,)
    if math.prod(shape) != data.size:
        raise WeightsError(f"{where}: blob shape {shape} needs {math.prod(shape)} values, the file holds {data.size}")
    return data.reshape(shape)


def read_caffemodel(path: str | Path) -> Iterator[CaffeLayer]:
    """Yield every layer of a ``.caffemodel`` that has blobs, in file order (legacy ``layers`` first).

    Raises :class:`WeightsNotFoundError` for a missing file, :class:`WeightsError` for a file that is not a binary
    Caffe ``NetParameter`` or whose blobs are inconsistent.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WeightsNotFoundError(f"Caffe model not found: {path}") from None
    except OSError as exc:
        raise WeightsError(f"cannot read Caffe model {path}: {exc}") from None
    net = NetParameter()
    try:
        net.ParseFromString(raw)
    except DecodeError as exc:
        raise WeightsError(f"{path} is not a binary Caffe model (NetParameter): {exc}") from None
    del raw
    logger.debug("%s: %d layers, %d legacy layers", path, len(net.layer), len(net.layers))
    legacy = ((layer, _V1_TYPE_NAMES.get(layer.type, str(layer.type))) for layer in net.layers)
    modern = ((layer, layer.type) for layer in net.layer)
    for layer, type_name in itertools.chain(legacy, modern):
        if len(layer.blobs):
            where = f"{path}: layer {layer.name!r}"
            yield CaffeLayer(layer.name, type_name, tuple(_blob_array(b, where) for b in layer.blobs))


def caffe_state_dict(layers: Iterable[CaffeLayer]) -> dict[str, np.ndarray]:
    """Name every blob as a state_dict key: ``<layer>.weight``, ``<layer>.bias`` (further blobs ``<layer>.blob<i>``,
    which no network here has, so they surface as unexpected)."""
    out: dict[str, np.ndarray] = {}
    for layer in layers:
        for i, blob in enumerate(layer.blobs):
            key = f"{layer.name}.{_PARAM_NAMES[i] if i < len(_PARAM_NAMES) else f'blob{i}'}"
            if key in out:
                raise WeightsError(f"layer {layer.name!r} appears twice in the Caffe model")
            out[key] = blob
    return out


def _expected_shapes(architecture: str) -> dict[str, tuple[int, ...]]:
    try:
        return expected_shapes(get_spec(architecture))
    except KeyError as exc:
        raise WeightsError(str(exc.args[0])) from None


def _listing(names: list[str]) -> str:
    more = f" +{len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return ", ".join(names[:_SHOWN]) + more


def _layer(key: str) -> str:
    return key.rsplit(".", 1)[0]


def _mismatch(blobs: dict[str, np.ndarray], expected: dict[str, tuple[int, ...]]) -> tuple[int, str]:
    """(number of tensors that do not fit, a phrase naming missing/unexpected layers and shape mismatches, each in
    network or file order)."""
    missing, unexpected, shapes = differences(blobs, expected, ignore_leading_ones=True)
    phrases = [f"{what} {_listing(names)}" for what, names in (
        ("missing layers", list(dict.fromkeys(_layer(k) for k in missing))),
        ("unexpected layers", list(dict.fromkeys(_layer(k) for k in unexpected))),
        ("shape mismatches (file vs network)", shapes),
    ) if names]
    return len(missing) + len(unexpected) + len(shapes), "; ".join(phrases)


def load_caffemodel(path: str | Path, architecture: str | None = None) -> tuple[dict[str, Tensor], str]:
    """Read a ``.caffemodel`` as the state_dict of a registered network.

    Args:
        path: the ``.caffemodel`` file.
        architecture: registry name in :mod:`openpose_py.models` (``"cmu-coco"`` ...); None infers it from the layer
            names and blob shapes among the CMU networks (COCO and MPI share layer names and differ in shapes).

    Returns:
        ``(state_dict, architecture)``: float32 tensors shaped as the network's parameters (legacy 4-D biases
        (1, 1, 1, C) become (C,)), ready for ``model.load_state_dict(state_dict, strict=True)``.

    Raises:
        ArchitectureMismatchError: the blobs do not fit the network (missing/unexpected layers, shape mismatches).
    """
    blobs = caffe_state_dict(read_caffemodel(path))
    if not blobs:
        raise WeightsError(f"{path} holds no trained blobs (a network definition rather than a .caffemodel?)")
    candidates = (architecture,) if architecture is not None else CMU_ARCHITECTURES
    report = {name: _mismatch(blobs, _expected_shapes(name)) for name in candidates}
    name = min(report, key=lambda n: report[n][0])
    if report[name][0]:
        what = f"the {name} network" if architecture is not None else \
            f"any of {', '.join(CMU_ARCHITECTURES)} (closest: {name})"
        raise ArchitectureMismatchError(f"{path} does not fit {what}: {report[name][1]}")
    expected = _expected_shapes(name)
    logger.info("%s: %d tensors loaded as %s", path, len(expected), name)
    return {k: torch.from_numpy(blobs[k]).reshape(expected[k]) for k in expected}, name
