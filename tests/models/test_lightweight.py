"""Lightweight OpenPose network: layout against the shared layer map, both variants, channel wiring, real weights."""

from __future__ import annotations

import json
import re

import cv2
import numpy as np
import pytest
import torch

from openpose_py.models import StageOutput, create
from openpose_py.models.lightweight import LightweightOpenPose
from openpose_py.weights.formats.openvino.hpe0001 import hpe0001_ir_layers, ir_to_module_state_dict
from openpose_py.preprocess import PreprocessSpec, preprocess
from openpose_py.skeleton import BODY_25, COCO_18

from ..conftest import SHARED

HPE = SHARED / "weights" / "hpe-0001"
needs_shared = pytest.mark.shared("weights/hpe-0001")


def _layer_map() -> list[tuple[str, tuple[int, ...], str]]:
    """(IR key, shape, original-code key) rows of the shared layer_map.tsv (parenthetical notes stripped)."""
    rows = []
    for line in (HPE / "layer_map.tsv").read_text().splitlines():
        ir_key, shape, original = line.split("\t")
        dims = tuple(int(d) for d in re.findall(r"\d+", shape))
        rows.append((ir_key, dims, re.sub(r" \(.*\)", "", original)))
    return rows


def _original_state_dict(generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Random weights in the original training code's key layout, built from the layer map, not from our module.

    Conv weights take the layer map's shapes; every ``(+BN x folded)`` note becomes a BatchNorm2d at key ``x``
    (relative to the refinement block for ``trunk.*``); the original code's backbone and CPM trunk convs have no
    bias, all other convs do.
    """
    sd: dict[str, torch.Tensor] = {}
    for line in (HPE / "layer_map.tsv").read_text().splitlines():
        ir_key, shape, original = line.split("\t")
        if original.startswith("(no counterpart"):
            continue
        dims = tuple(int(d) for d in re.findall(r"\d+", shape))
        key = re.sub(r" \(.*\)", "", original)
        note = re.search(r"\+BN (\S+) folded", original)
        if key.endswith(".weight"):
            sd[key] = torch.randn(dims, generator=generator) * 0.05
            if note:
                bn = note.group(1)
                bn = bn if bn.startswith("model.") else key[:key.rindex(".trunk.")] + "." + bn
                n = dims[0]
                sd[f"{bn}.weight"] = 1 + 0.1 * torch.randn(n, generator=generator)
                sd[f"{bn}.bias"] = 0.1 * torch.randn(n, generator=generator)
                sd[f"{bn}.running_mean"] = 0.1 * torch.randn(n, generator=generator)
                sd[f"{bn}.running_var"] = 1 + 0.1 * torch.rand(n, generator=generator)
                sd[f"{bn}.num_batches_tracked"] = torch.tensor(370000)
        elif not key.startswith(("model.", "cpm.trunk.")):
            sd[key] = 0.01 * torch.randn(dims, generator=generator)
    return sd


@needs_shared
def test_hpe0001_layout_matches_shared_layer_map():
    rows = _layer_map()
    table = dict(hpe0001_ir_layers(1))
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in create("lightweight").state_dict().items()}
    mapped = {}
    for ir_key, dims, original in rows:
        layer, _, param = ir_key.rpartition(".")
        mine = f"{table[layer]}.{param}"
        mapped[mine] = dims
        if not original.startswith("(no counterpart"):  # only the IR's extra CPM `red` conv has no original key
            assert mine == original, ir_key
    assert mapped == expected  # every tensor accounted for, same shapes, nothing extra
    assert sum(int(np.prod(d)) for d in mapped.values()) == sum(int(np.prod(s)) for s in expected.values())


@needs_shared
def test_original_variant_loads_original_layout_strict():
    sd = _original_state_dict(torch.Generator().manual_seed(0))
    net = create("lightweight", variant="original")
    net.load_state_dict(sd, strict=True)
    assert isinstance(net.model[1][1], torch.nn.BatchNorm2d) and net.cpm.reduce is None
    net.eval()
    with torch.no_grad():
        stages = net(torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1)))
    assert len(stages) == 2 and all(torch.isfinite(s.heatmaps).all() and torch.isfinite(s.pafs).all() for s in stages)


@pytest.mark.parametrize("variant", ["hpe-0001", "original"])
def test_refinement_input_order(variant):
    torch.manual_seed(0)
    net = LightweightOpenPose(variant=variant, width=0.25).eval()
    seen = {}
    net.cpm.register_forward_hook(lambda m, i, o: seen.setdefault("features", o))
    net.refinement_stages[0].register_forward_hook(lambda m, i, o: seen.setdefault("input", i[0]))
    with torch.no_grad():
        first = net(torch.randn(1, 3, 32, 48))[0]
    k1, p = COCO_18.num_heatmaps, COCO_18.num_pafs
    if variant == "hpe-0001":
        parts = (first.pafs, first.heatmaps, seen["features"])
    else:
        parts = (seen["features"], first.heatmaps, first.pafs)
    assert seen["input"].shape[1] == seen["features"].shape[1] + k1 + p
    assert torch.equal(seen["input"], torch.cat(parts, 1))


def test_channels_follow_skeleton_width_and_stage_count():
    torch.manual_seed(0)
    net = create("lightweight", skeleton=BODY_25, num_refinement_stages=2, width=0.25).eval()
    full = create("lightweight")
    assert sum(p.numel() for p in net.parameters()) < sum(p.numel() for p in full.parameters()) / 8
    with torch.no_grad():
        stages = net(torch.randn(2, 3, 64, 96))
    assert len(stages) == 3 and all(isinstance(s, StageOutput) for s in stages)
    for s in stages:
        assert s.heatmaps.shape == (2, BODY_25.num_heatmaps, 8, 12)
        assert s.pafs.shape == (2, BODY_25.num_pafs, 8, 12)
    with pytest.raises(ValueError, match="variant"):
        create("lightweight", variant="nope")


@needs_shared
def test_pretrained_heatmaps_peak_at_annotated_keypoints():
    net = LightweightOpenPose().eval()
    ir_sd = torch.load(HPE / "hpe0001_float32_ir_names.pth", weights_only=True)
    net.load_state_dict(ir_to_module_state_dict(ir_sd), strict=True)
    data = SHARED / "data" / "coco-val2017-dev"
    anns = json.loads((data / "person_keypoints.json").read_text())
    image_id = next(i["id"] for i in anns["images"] if i["file_name"] == "000000349860.jpg")
    ann = next(a for a in anns["annotations"] if a["image_id"] == image_id)
    image = cv2.imread(str(data / "images" / "000000349860.jpg"))
    x, box = preprocess(image, PreprocessSpec(mean=128.0, std=255.0, height=368, pad="center"))
    with torch.no_grad():
        heatmaps = net(x)[-1].heatmaps[0]
    kps = np.asarray(ann["keypoints"], dtype=np.float64).reshape(17, 3)
    cells = (box.to_input(kps[:, :2]) - 3.5) / 8  # input pixel -> stride-8 cell (cell centre 8 i + 3.5)
    values = []
    for j, (cx, cy) in enumerate(np.rint(cells).astype(int)):
        if kps[j, 2] > 0:
            window = heatmaps[COCO_18.coco17[j], max(cy - 1, 0):cy + 2, max(cx - 1, 0):cx + 2]
            values.append(float(window.max()))
    assert len(values) == 17
    assert np.median(values) > 0.6 and np.mean(np.array(values) > 0.3) >= 0.8
    # away from the person the keypoint channels stay near zero and the background channel near one
    assert float(heatmaps[:-1].mean()) < 0.05 and float(heatmaps[-1].median()) > 0.9
