import math

import pytest
import torch

from openpose_py.codec.encode import cell_centres, encode_heatmaps, encode_pafs
from openpose_py.skeleton import COCO_18


def _people(*rows):
    kp = torch.zeros(len(rows), 18, 3)
    for p, parts in enumerate(rows):
        for name, (x, y) in parts.items():
            kp[p, COCO_18.index(name)] = torch.tensor([x, y, 1.0])
    return kp


def test_heatmap_peak_value_and_sigma():
    kp = _people({"Nose": (8 * 5 + 3.5, 8 * 7 + 3.5)})
    hm = encode_heatmaps(kp, (16, 16), sigma=7.0)
    nose = hm[COCO_18.index("Nose")]
    assert nose[7, 5] == pytest.approx(1.0)
    assert nose[7, 6] == pytest.approx(math.exp(-64 / 98), rel=1e-5)  # one cell = 8 px away
    assert nose.argmax() == 7 * 16 + 5
    assert hm[:18].sum() == pytest.approx(nose.sum())  # absent parts are empty
    assert torch.allclose(hm[18], (1 - hm[:18].amax(0)).clamp(min=0))


def test_heatmaps_take_the_maximum_where_people_overlap():
    a, b = (40.0, 40.0), (52.0, 40.0)
    both = encode_heatmaps(_people({"Nose": a}, {"Nose": b}), (12, 12))
    one = encode_heatmaps(_people({"Nose": a}), (12, 12))
    two = encode_heatmaps(_people({"Nose": b}), (12, 12))
    assert torch.equal(both[0], torch.maximum(one[0], two[0]))
    assert both[0].max() <= 1.0


def test_heatmap_cutoff_and_batch_dims():
    kp = _people({"Neck": (20.0, 20.0)})
    hm = encode_heatmaps(kp.expand(3, -1, -1, -1), (20, 20))
    assert hm.shape == (3, 19, 20, 20)
    neck = hm[0, 1]
    assert (neck[(neck > 0)] >= 0.01).all()
    assert torch.equal(hm[0], hm[2])


def test_paf_is_unit_vector_on_the_limb_and_zero_elsewhere():
    kp = _people({"Neck": (3.5, 43.5), "RHip": (83.5, 43.5)})  # horizontal, along map row 5 from col 0 to 10
    paf = encode_pafs(kp, COCO_18, (12, 16))
    limb = COCO_18.limbs[6]
    px, py = paf[limb.paf_x], paf[limb.paf_y]
    assert torch.all(px[4:7, 0:11] == 1.0) and torch.all(py == 0)
    assert px[3].abs().sum() == 0 and px[7].abs().sum() == 0  # outside the 1-cell band
    assert px[5, 11:].abs().sum() == 0  # beyond B (cell 10 is B itself)
    others = [c for c in range(38) if c not in (limb.paf_x, limb.paf_y)]
    assert paf[others].abs().sum() == 0


def test_paf_averages_overlapping_people():
    right = _people({"Neck": (3.5, 43.5), "RHip": (83.5, 43.5)})
    down = _people({"Neck": (43.5, 3.5), "RHip": (43.5, 83.5)})
    both = torch.cat((right, down))
    paf = encode_pafs(both, COCO_18, (12, 12))
    limb = COCO_18.limbs[6]
    # cell (5, 5) lies on both limbs: mean of (1, 0) and (0, 1)
    assert paf[limb.paf_x, 5, 5] == pytest.approx(0.5)
    assert paf[limb.paf_y, 5, 5] == pytest.approx(0.5)
    assert paf[limb.paf_x, 5, 9] == pytest.approx(1.0)  # only the horizontal limb there


def test_missing_end_or_padding_people_contribute_nothing():
    kp = _people({"Neck": (10.0, 10.0)}, {})
    assert encode_pafs(kp, COCO_18, (8, 8)).abs().sum() == 0
    empty = torch.zeros(0, 18, 3)
    assert encode_pafs(empty, COCO_18, (8, 8)).shape == (38, 8, 8)
    hm = encode_heatmaps(empty, (8, 8))
    assert torch.all(hm[18] == 1) and torch.all(hm[:18] == 0)


def test_cell_centres():
    assert cell_centres(3, 8).tolist() == [3.5, 11.5, 19.5]
