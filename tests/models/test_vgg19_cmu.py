"""The CMU VGG-19 networks against their official prototxts, layer by layer, and their forward behaviour."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from openpose_py.weights.formats.caffe.prototxt import read_prototxt
from openpose_py.models import available, create, final_output
from openpose_py.skeleton import BODY_25, COCO_18, MPI_15

from ..conftest import WEIGHTS_DIR, require_shared

PROTOTXTS = {
    "cmu-coco": "coco/pose_deploy_linevec.prototxt",
    "cmu-body25": "body_25/pose_deploy.prototxt",
    "cmu-mpi": "mpi/pose_deploy_linevec.prototxt",
}
SKELETONS = {"cmu-coco": COCO_18, "cmu-body25": BODY_25, "cmu-mpi": MPI_15}
# docs/REFERENCE.md section 3, millions of parameters
PUBLISHED_MILLIONS = {"cmu-coco": 52.31, "cmu-body25": 26.17}
CAFFE_TYPE = {nn.Conv2d: "Convolution", nn.ReLU: "ReLU", nn.PReLU: "PReLU", nn.MaxPool2d: "Pooling"}


@pytest.fixture(scope="module", params=list(PROTOTXTS))
def case(request):
    """(architecture name, network, parsed prototxt), one network built per architecture."""
    path = WEIGHTS_DIR / "cmu-openpose-prototxt" / PROTOTXTS[request.param]
    require_shared(path)
    torch.manual_seed(0)
    return request.param, create(request.param).eval(), read_prototxt(path)


def walk(proto) -> list[tuple[object, list[int], int]]:
    """(layer, input channels per bottom, output channels) for every prototxt layer, from the prototxt alone."""
    channels = {proto.input[0]: proto.input_dim[1]}
    rows = []
    for layer in proto.layer:
        cin = [channels[b] for b in layer.bottom]
        if layer.type == "Convolution":
            out = layer.convolution_param.num_output
        elif layer.type == "Concat":
            assert layer.concat_param.axis == 1
            out = sum(cin)
        else:
            out = cin[0]
        channels[layer.top[0]] = out
        rows.append((layer, cin, out))
    return rows


def first_or(values, default: int) -> int:
    assert len(set(values)) <= 1, "anisotropic Caffe parameter"
    return values[0] if len(values) else default


def test_registered():
    assert {"cmu-coco", "cmu-body25", "cmu-mpi"} <= set(available())


def test_layers_match_prototxt(case):
    name, model, proto = case
    rows = walk(proto)
    assert [(n, CAFFE_TYPE[type(m)]) for n, m in model.named_children()] == \
        [(layer.name, layer.type) for layer, _, _ in rows if layer.type != "Concat"]
    for layer, cin, out in rows:
        if layer.type == "Concat":
            continue
        module = getattr(model, layer.name)
        if layer.type == "Convolution":
            p = layer.convolution_param
            k = first_or(p.kernel_size, 0)
            assert (module.in_channels, module.out_channels) == (cin[0], out), layer.name
            assert module.kernel_size == (k, k), layer.name
            assert module.stride == (first_or(p.stride, 1),) * 2, layer.name
            assert module.padding == (first_or(p.pad, 0),) * 2, layer.name
            assert module.dilation == (first_or(p.dilation, 1),) * 2, layer.name
            assert module.groups == p.group and (module.bias is not None) == p.bias_term, layer.name
        elif layer.type == "ReLU":
            assert layer.relu_param.negative_slope == 0 and layer.bottom == layer.top, layer.name
        elif layer.type == "PReLU":
            assert module.num_parameters == (1 if layer.prelu_param.channel_shared else cin[0]), layer.name
        else:
            p = layer.pooling_param
            assert p.pool == p.MAX and p.pad == 0, layer.name
            assert (module.kernel_size, module.stride, module.padding) == (p.kernel_size, p.stride, 0), layer.name
            assert module.ceil_mode, "Caffe pooling rounds the output size up"
    # state_dict keys are exactly the Caffe layer names of the layers that carry parameters
    expected_keys = {f"{layer.name}.{p}" for layer, _, _ in rows for p in
                     {"Convolution": ("weight", "bias"), "PReLU": ("weight",)}.get(layer.type, ())}
    assert set(model.state_dict()) == expected_keys


def test_parameter_count(case):
    name, model, proto = case
    from_prototxt = 0
    for layer, cin, out in walk(proto):
        if layer.type == "Convolution":
            p = layer.convolution_param
            from_prototxt += out * cin[0] // p.group * first_or(p.kernel_size, 0) ** 2 + out * p.bias_term
        elif layer.type == "PReLU":
            from_prototxt += 1 if layer.prelu_param.channel_shared else cin[0]
    assert sum(p.numel() for p in model.parameters()) == from_prototxt
    if name in PUBLISHED_MILLIONS:
        assert round(from_prototxt / 1e6, 2) == PUBLISHED_MILLIONS[name]


def test_forward_shapes(case):
    name, model, proto = case
    skeleton = SKELETONS[name]
    assert model.skeleton is skeleton
    with torch.no_grad():
        stages = model(torch.randn(2, 3, 16, 24))
    heatmaps = (2, skeleton.num_heatmaps, 2, 3)
    pafs = (2, skeleton.num_pafs, 2, 3)
    if name == "cmu-body25":
        assert [s.heatmaps is None for s in stages] == [True] * 4 + [False] * 2
        assert [s.pafs is None for s in stages] == [False] * 4 + [True] * 2
    else:
        assert len(stages) == 6 and all(s.heatmaps is not None and s.pafs is not None for s in stages)
    assert all(s.heatmaps is None or s.heatmaps.shape == heatmaps for s in stages)
    assert all(s.pafs is None or s.pafs.shape == pafs for s in stages)
    final = final_output(stages)
    assert (final.heatmaps.shape, final.pafs.shape) == (heatmaps, pafs)


def test_forward_matches_prototxt_graph(case):
    """Running the prototxt's own graph (bottoms, tops, concat orders) with the network's modules gives exactly the
    network's stage outputs and final output."""
    name, model, proto = case
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for module in model.children():
            if isinstance(module, nn.Conv2d):  # He-scaled so that activations stay O(1) through 20+ layers
                fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * math.sqrt(2 / fan_in))
                module.bias.copy_(torch.rand(module.bias.shape, generator=gen) * 0.2 - 0.1)
            elif isinstance(module, nn.PReLU):
                module.weight.copy_(torch.rand(module.weight.shape, generator=gen) * 0.5)
        image = torch.randn(1, 3, 24, 24, generator=gen)
        blobs = {proto.input[0]: image}
        for layer in proto.layer:
            if layer.type == "Concat":
                blobs[layer.top[0]] = torch.cat([blobs[b] for b in layer.bottom], dim=1)
            else:
                blobs[layer.top[0]] = getattr(model, layer.name)(blobs[layer.bottom[0]])
        stages = model(image)
    activated = {layer.bottom[0] for layer in proto.layer if layer.type in ("ReLU", "PReLU")}
    heads = [blobs[layer.top[0]] for layer in proto.layer
             if layer.type == "Convolution" and layer.top[0] not in activated]
    produced = [t for s in stages for t in (s.pafs, s.heatmaps) if t is not None]
    assert len(heads) == len(produced)
    for expected, actual in zip(heads, produced):
        assert expected.std() > 0.01
        assert torch.equal(expected, actual)
    final = final_output(stages)
    assert torch.equal(blobs[proto.layer[-1].top[0]], torch.cat([final.heatmaps, final.pafs], dim=1))


def test_no_activation_after_branch_outputs(case):
    """With zero weights and bias -1 everywhere, every stage output is exactly -1: nothing rectifies the heads."""
    name, model, proto = case
    with torch.no_grad():
        for module in model.children():
            if isinstance(module, nn.Conv2d):
                module.weight.zero_()
                module.bias.fill_(-1.0)
        stages = model(torch.randn(1, 3, 16, 16))
    for s in stages:
        for t in (s.heatmaps, s.pafs):
            assert t is None or bool((t == -1).all())


def test_channels_follow_skeleton():
    with torch.device("meta"):
        coco_on_mpi = create("cmu-coco", skeleton=MPI_15)
        mpi = create("cmu-mpi")
    assert [tuple(p.shape) for p in coco_on_mpi.parameters()] == [tuple(p.shape) for p in mpi.parameters()]
    assert coco_on_mpi.skeleton is MPI_15
