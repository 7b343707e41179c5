"""OpenVINO IR importer: real hpe-0001 IR against its float32 reference, dequantisation on a synthetic IR."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from openpose_py.errors import ArchitectureMismatchError, WeightsError, WeightsNotFoundError
from openpose_py.weights.formats.openvino.hpe0001 import ir_to_module_state_dict, load_openvino_ir
from openpose_py.weights.formats.openvino.ir import read_ir
from openpose_py.models.lightweight import LightweightOpenPose
from openpose_py.preprocess import preprocess
from openpose_py.weights import get_spec

from ...conftest import SHARED, require_shared

HPE = SHARED / "weights" / "hpe-0001"
XML = HPE / "human-pose-estimation-0001.xml"
IMAGE = SHARED / "data" / "openpose-media" / "COCO_val2014_000000000192.jpg"
needs_shared = pytest.mark.shared("weights/hpe-0001")


@pytest.fixture(scope="module")
def reference() -> dict[str, torch.Tensor]:
    require_shared(HPE)
    return torch.load(HPE / "hpe0001_float32_ir_names.pth", weights_only=True)


@needs_shared
def test_every_tensor_matches_float32_reference(reference):
    model = read_ir(XML)
    assert model.name == "human-pose-estimation-0001" and model.input_shape == (1, 3, 256, 456)
    assert set(model.tensors) == set(reference)
    for key, ref in reference.items():
        got = model.tensors[key]
        assert got.dtype == torch.float32 and got.shape == ref.shape, key
        assert float((got - ref).abs().max()) <= 1e-4 * float(ref.abs().max()), key


@needs_shared
def test_ir_input_normalisation_is_the_registered_preprocessing():
    model = read_ir(XML)
    pre = get_spec("lightweight").preprocess
    pixels = np.array([0.0, 128.0, 255.0])
    for c in range(3):  # the IR stores scale and shift in float16
        np.testing.assert_allclose(pixels * model.input_scale[c] + model.input_shift[c],
                                   (pixels - pre.mean) / pre.std, atol=2e-3)


@needs_shared
def test_network_outputs_agree_between_ir_and_float32_state_dict(reference):
    image = cv2.imread(str(IMAGE))
    x, _ = preprocess(image, get_spec("lightweight").preprocess, scale=256 / 368)
    outputs = []
    for state in (load_openvino_ir(XML), ir_to_module_state_dict(reference)):
        net = LightweightOpenPose().eval()
        net.load_state_dict(state, strict=True)
        with torch.no_grad():
            outputs.append(net(x))
    for a, b in zip(*outputs):
        for got, ref in ((a.heatmaps, b.heatmaps), (a.pafs, b.pafs)):
            assert float((got - ref).abs().max()) <= 1e-4 * float(ref.abs().max())
    assert float(outputs[0][-1].heatmaps[0, :-1].max()) > 0.5  # a person is there


@needs_shared
def test_matches_openvino_runtime_without_activation_quantisation(tmp_path):
    pytest.importorskip("openvino")
    from openpose_py.backends import openvino_core
    # INT8 activations make the runtime differ by ~0.2; dropping the activation FakeQuantize layers leaves the
    # float network the importer describes, so topology (ELU vs ReLU, dilations, concat order) is checked tightly
    tree = ET.parse(XML)
    layers, edges = tree.getroot().find("layers"), tree.getroot().find("edges")
    fq = {lay.get("id") for lay in layers if lay.get("type") == "FakeQuantize" and "fq_input" in lay.get("name")}
    feed = {e.get("to-layer"): (e.get("from-layer"), e.get("from-port")) for e in edges
            if e.get("to-layer") in fq and e.get("to-port") == "0"}
    for edge in list(edges):
        if edge.get("to-layer") in fq:
            edges.remove(edge)
        elif edge.get("from-layer") in fq:
            src, port = feed[edge.get("from-layer")]
            edge.set("from-layer", src)
            edge.set("from-port", port)
    for layer in list(layers):
        if layer.get("id") in fq:
            layers.remove(layer)
    float_xml = tmp_path / "float.xml"
    tree.write(float_xml)
    image = cv2.resize(cv2.imread(str(IMAGE)), (456, 256)).astype(np.float32)
    core = openvino_core()  # the process's one Core: see its docstring
    compiled = core.compile_model(core.read_model(float_xml, XML.with_suffix(".bin")), "CPU",
                                  {"INFERENCE_PRECISION_HINT": "f32"})
    result = compiled(image.transpose(2, 0, 1)[None])
    net = LightweightOpenPose().eval()
    net.load_state_dict(load_openvino_ir(XML), strict=True)
    with torch.no_grad():
        ours = net(torch.from_numpy((image - 128) / 255).permute(2, 0, 1)[None])[-1]
    for out in compiled.outputs:
        mine = (ours.heatmaps if out.get_any_name().startswith("Mconv7_stage2_L2") else ours.pafs)[0].numpy()
        assert np.abs(result[out][0] - mine).max() < 5e-3 * np.abs(mine).max()


# ---- synthetic IRs -----------------------------------------------------------------------------------------------

class _IRWriter:
    """Builds a tiny IR v10 (xml + bin) layer by layer."""

    def __init__(self) -> None:
        self.layers: list[ET.Element] = []
        self.edges: list[tuple[int, int, int, int]] = []
        self.blob = bytearray()

    def layer(self, kind: str, name: str, inputs: tuple[int, ...] = (), **data: str) -> int:
        lid = len(self.layers)
        el = ET.Element("layer", id=str(lid), name=name, type=kind, version="opset1")
        if data:
            ET.SubElement(el, "data", {k: str(v) for k, v in data.items()})
        for port, src in enumerate(inputs):
            self.edges.append((src, len(self.layers[src].findall("input/port")) + 10, lid, port))
        if inputs:
            ET.SubElement(el, "input").extend(ET.Element("port", id=str(p)) for p in range(len(inputs)))
        ET.SubElement(ET.SubElement(el, "output"), "port", id=str(len(inputs) + 10))
        self.layers.append(el)
        return lid

    def const(self, name: str, value: np.ndarray, element_type: str) -> int:
        raw = np.ascontiguousarray(value).tobytes()
        offset = len(self.blob)
        self.blob += raw
        return self.layer("Const", name, element_type=element_type, offset=offset, size=len(raw),
                          shape=",".join(str(d) for d in value.shape))

    def write(self, directory: Path, stem: str) -> Path:
        net = ET.Element("net", name=stem, version="10")
        ET.SubElement(net, "layers").extend(self.layers)
        edges = ET.SubElement(net, "edges")
        for src, sport, dst, dport in self.edges:
            ET.SubElement(edges, "edge", {"from-layer": str(src), "from-port": str(sport), "to-layer": str(dst),
                                          "to-port": str(dport)})
        xml = directory / f"{stem}.xml"
        ET.ElementTree(net).write(xml)
        xml.with_suffix(".bin").write_bytes(bytes(self.blob))
        return xml


def _quantised_conv_ir(directory: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    q = rng.integers(0, 255, size=(3, 2, 1, 1), dtype=np.uint8)
    out_low = np.array([-0.5, -2.0, -0.01], np.float16).reshape(3, 1, 1, 1)
    out_high = np.array([0.5, 1.0, 0.02], np.float16).reshape(3, 1, 1, 1)
    bias = np.array([0.25, -1.5, 3.0], np.float16).reshape(1, 3, 1, 1)
    w = _IRWriter()
    data = w.layer("Parameter", "data", element_type="f32", shape="1,2,4,4")
    weights = w.layer("Convert", "w/convert", (w.const("w/q", q, "u8"),), destination_type="f16")
    lo, hi = w.const("in_low", np.array([0], np.float16), "f16"), w.const("in_high", np.array([254], np.float16), "f16")
    fq = w.layer("FakeQuantize", "w/fq", (weights, lo, hi, w.const("out_low", out_low, "f16"),
                                         w.const("out_high", out_high, "f16")), levels="255")
    conv = w.layer("Convolution", "myconv", (data, fq), strides="1,1", dilations="1,1", pads_begin="0,0",
                   pads_end="0,0")
    add = w.layer("Add", "myconv/add", (conv, w.const("b", bias, "f16")))
    w.layer("Result", "out", (add,))
    expected = (out_low.astype(np.float64) + q / 254.0 * (out_high.astype(np.float64) - out_low)).astype(np.float16)
    return w.write(directory, "tiny"), expected.astype(np.float32), bias.reshape(3).astype(np.float32)


def test_dequantises_per_channel_fake_quantize(tmp_path):
    xml, weight, bias = _quantised_conv_ir(tmp_path)
    model = read_ir(xml)
    assert set(model.tensors) == {"myconv.weight", "myconv.bias"}
    np.testing.assert_array_equal(model.tensors["myconv.weight"].numpy(), weight)
    np.testing.assert_array_equal(model.tensors["myconv.bias"].numpy(), bias)
    assert model.input_scale is None


def test_other_architecture_and_broken_files_raise(tmp_path):
    xml, _, _ = _quantised_conv_ir(tmp_path)
    with pytest.raises(ArchitectureMismatchError, match="not a human-pose-estimation-0001"):
        load_openvino_ir(xml)
    bin_path = xml.with_suffix(".bin")
    bin_path.write_bytes(bin_path.read_bytes()[:4])
    with pytest.raises(WeightsError, match="too short"):
        read_ir(xml)
    bin_path.unlink()
    with pytest.raises(WeightsNotFoundError, match="tiny.bin"):
        read_ir(xml)
    (tmp_path / "junk.xml").write_text("this is not xml")
    (tmp_path / "junk.bin").write_bytes(b"")
    with pytest.raises(WeightsError, match="not a readable OpenVINO IR"):
        read_ir(tmp_path / "junk.xml")
