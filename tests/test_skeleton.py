import numpy as np
import pytest

from openpose_py.skeleton import BODY_25, COCO_18, MPI_15, SKELETONS, Skeleton, get_skeleton


def test_coco17_reorder_matches_reference():
    assert COCO_18.coco17 == (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10)
    assert BODY_25.coco17 == (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11)
    assert MPI_15.coco17 is None


def test_coco18_network_channel_order_matches_reference():
    # limb i of the network's own order sits at PAF channels 2i, 2i+1
    network_order = [
        "Neck-RHip", "RHip-RKnee", "RKnee-RAnkle", "Neck-LHip", "LHip-LKnee", "LKnee-LAnkle", "Neck-RShoulder",
        "RShoulder-RElbow", "RElbow-RWrist", "RShoulder-REar", "Neck-LShoulder", "LShoulder-LElbow", "LElbow-LWrist",
        "LShoulder-LEar", "Neck-Nose", "Nose-REye", "Nose-LEye", "REye-REar", "LEye-LEar",
    ]
    by_channel = {lb.paf_x: f"{COCO_18.keypoints[lb.a]}-{COCO_18.keypoints[lb.b]}" for lb in COCO_18.limbs}
    assert [by_channel[2 * i] for i in range(19)] == network_order
    assert all(lb.paf_y == lb.paf_x + 1 for lb in COCO_18.limbs)


@pytest.mark.parametrize("sk,k,limbs", [(COCO_18, 18, 19), (BODY_25, 25, 26), (MPI_15, 15, 14)])
def test_sizes(sk: Skeleton, k: int, limbs: int):
    assert (sk.num_keypoints, sk.num_heatmaps, sk.num_limbs, sk.num_pafs) == (k, k + 1, limbs, 2 * limbs)
    assert len(sk.colors) == k


@pytest.mark.parametrize("sk", list(SKELETONS.values()))
def test_flip_permutations_are_involutions(sk: Skeleton):
    for perm in (sk.flip_keypoints, sk.flip_limbs, sk.flip_heatmap_channels, sk.flip_paf_channels):
        assert sorted(perm) == list(range(len(perm)))
        assert [perm[p] for p in perm] == list(range(len(perm)))
    for i, name in enumerate(sk.keypoints):
        mirror = sk.keypoints[sk.flip_keypoints[i]]
        if name[0] in "LR" and name[1].isupper():
            assert mirror == {"L": "R", "R": "L"}[name[0]] + name[1:]
        else:
            assert mirror == name


def test_redundant_and_uncounted():
    assert [COCO_18.limbs.index(lb) for lb in COCO_18.limbs if lb.redundant] == [17, 18]
    assert len(COCO_18.render_limbs) == 17
    assert sum(not c for c in BODY_25.counted) == 6
    assert all(BODY_25.keypoints[i].endswith(("Toe", "Heel")) for i, c in enumerate(BODY_25.counted) if not c)


def test_from_coco17_synthesises_neck_only_with_both_shoulders():
    coco = np.zeros((2, 17, 3), np.float32)
    coco[:, 5] = (10, 10, 2)
    coco[0, 6] = (30, 20, 1)
    out = COCO_18.from_coco17(coco)
    np.testing.assert_allclose(out[0, COCO_18.index("Neck")], (20, 15, 1))
    np.testing.assert_allclose(out[1, COCO_18.index("Neck")], (0, 0, 0))
    np.testing.assert_allclose(out[0, COCO_18.index("LShoulder")], (10, 10, 2))


def test_invalid_tables_are_rejected():
    with pytest.raises(ValueError, match="PAF channels"):
        Skeleton("bad", ("A", "B"), (("A", "B", 0, 2),))
    with pytest.raises(ValueError, match="unknown keypoint"):
        Skeleton("bad", ("A", "B"), (("A", "C", 0, 1),))
    with pytest.raises(KeyError):
        get_skeleton("coco-19")
    assert get_skeleton("body-25") is BODY_25
