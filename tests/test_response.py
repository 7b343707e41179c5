import json
from pathlib import Path

import numpy as np
import pytest
import torch

from openpose_py.codec.encode import encode_heatmaps, encode_pafs
from openpose_py.response import Responses, map_responses, responses
from openpose_py.skeleton import COCO_18
from openpose_py.train.validation import write_split


def _person(cells: list[tuple[float, float]], stride: int = 8) -> np.ndarray:
    """One COCO-18 person whose keypoints sit on the given map cells' centres (unlisted keypoints unlabelled)."""
    kp = np.zeros((COCO_18.num_keypoints, 3), np.float32)
    for k, (cx, cy) in enumerate(cells):
        kp[k] = (cx * stride + (stride - 1) / 2, cy * stride + (stride - 1) / 2, 2)
    return kp


def test_ground_truth_maps_answer_one_at_every_labelled_keypoint_and_limb() -> None:
    """Maps encoded from the people themselves respond 1 at each labelled keypoint and along each limb whose two ends
    are labelled, and pass the limb test; a keypoint without a label, and the limbs it ends, are left out."""
    a = _person([(10, 4), (10, 10), (6, 10), (4, 16), (4, 22), (14, 10), (16, 16)])  # nose..LElbow, no LWrist
    b = _person([(30, 4), (30, 10), (26, 10), (24, 16)])
    b[2, 2] = 0  # RShoulder unlabelled: neck-RShoulder and RShoulder-RElbow go
    keypoints = torch.from_numpy(np.stack((a, b)))
    size = (32, 40)
    heatmaps = encode_heatmaps(keypoints, size)
    pafs = encode_pafs(keypoints, COCO_18, size)
    kp, limbs, passes = map_responses(heatmaps, pafs, keypoints, COCO_18, 8.0)

    assert len(kp) == 7 + 3
    assert torch.allclose(kp, torch.ones_like(kp), atol=1e-5)
    labelled = keypoints[..., 2] > 0
    expected = sum(int(labelled[p, lb.a] & labelled[p, lb.b]) for p in range(2) for lb in COCO_18.limbs)
    assert len(limbs) == expected == 6 + 1  # a: neck-R/L shoulders, R elbow, R wrist, L elbow, nose-neck; b: nose-neck
    assert torch.allclose(limbs, torch.ones_like(limbs), atol=1e-5)
    assert passes.all()

    # a field that points the other way answers -1 and fails the test
    _, reversed_limbs, reversed_passes = map_responses(heatmaps, -pafs, keypoints, COCO_18, 8.0)
    assert torch.allclose(reversed_limbs, -torch.ones_like(limbs), atol=1e-5) and not reversed_passes.any()


def test_change_counts_falls_and_limbs_that_stop_or_start_passing() -> None:
    before = Responses(np.array([0.5, 0.5, 0.5, 0.5]), np.array([0.2, 0.06, 0.04]), np.array([True, True, False]))
    after = Responses(np.array([0.4, 0.5, 0.6, 0.3]), np.array([0.1, 0.04, 0.07]), np.array([True, False, True]))
    change = after.change(before)
    assert change.keypoints == pytest.approx(-0.05)
    assert change.keypoints_fell == pytest.approx(0.5)
    assert change.limbs == pytest.approx((-0.1 - 0.02 + 0.03) / 3)
    assert change.limbs_fell == pytest.approx(2 / 3)
    assert (change.limbs_lost, change.limbs_gained) == (1, 1)
    with pytest.raises(ValueError, match="same people"):
        after.change(Responses(np.zeros(3), np.zeros(3), np.zeros(3, bool)))


@pytest.mark.slow
def test_a_network_against_itself_on_real_photos(lightweight_estimator, dev_set: tuple[Path, Path],
                                                tmp_path: Path) -> None:
    """On real photos: one response per labelled keypoint (the neck where both shoulders are) and per labelled limb of
    the people COCO scores, the pretrained network's well above zero, and no change against itself."""
    images, annotations = dev_set
    data = json.loads(annotations.read_text())
    chosen = [139, 214753]  # one person; two people
    subset = tmp_path / "subset.json"
    write_split(annotations, chosen, subset)
    people = [a for a in data["annotations"] if a["image_id"] in chosen and not a["iscrowd"] and a["num_keypoints"]]
    coco = np.array([a["keypoints"] for a in people], np.float32).reshape(-1, 17, 3)
    labelled = COCO_18.from_coco17(coco)[..., 2] > 0

    found = responses(lightweight_estimator, images, subset)
    assert len(found.keypoints) == int(labelled.sum())
    assert len(found.limbs) == sum(int(labelled[p, lb.a] & labelled[p, lb.b])
                                   for p in range(len(people)) for lb in COCO_18.limbs)
    assert found.keypoints.mean() > 0.3 and found.limbs.mean() > 0.3 and found.limb_passes.mean() > 0.8
    same = found.change(responses(lightweight_estimator, images, subset))
    assert (same.keypoints, same.limbs, same.limbs_lost, same.limbs_gained) == (0.0, 0.0, 0, 0)


@pytest.mark.parametrize("preset", ["default", "cvpr2017", "openpose-cpp"])
def test_limb_test_is_the_decoders_for_every_preset(preset: str) -> None:
    """A labelled limb passes exactly when the decoder, given peaks at its two ends, accepts that pair by the PAF: same
    points (10, or OpenPose C++'s count that grows with the limb's length), same threshold and inlier ratio."""
    from openpose_py.decode.decoder import DecoderConfig
    from openpose_py.decode.limbs import LimbScoring, score_limbs
    from openpose_py.decode.peaks import Peaks

    config = DecoderConfig.preset(preset)
    generator = torch.Generator().manual_seed(0)
    size = (48, 64)
    people = [_person([(float(x), float(y)) for x, y in torch.randint(2, 46, (18, 2), generator=generator)])
              for _ in range(6)]
    for person in people:
        person[:, :2] += torch.rand((18, 2), generator=generator).numpy() * 8  # off the cell centres
    keypoints = torch.from_numpy(np.stack(people))
    # the limbs' own fields, each cell scaled around the threshold: limbs fall on both sides of the test
    pafs = encode_pafs(keypoints, COCO_18, size, width=3.0) * (0.03 + 0.1 * torch.rand(size, generator=generator))
    _, _, passes = map_responses(torch.zeros((19, *size)), pafs, keypoints, COCO_18, 8.0, config)

    scoring = LimbScoring(config.paf_samples, config.paf_threshold, config.min_inlier_ratio, distance_prior=False,
                          inliers_only=config.inliers_only, short_limb=None)
    expected = []
    for person in keypoints:
        for k, lb in enumerate(COCO_18.limbs):
            ends = person[[lb.a, lb.b], :2].float()
            peaks = Peaks(torch.tensor([lb.a, lb.b]).sort().values, ends[torch.tensor([lb.a, lb.b]).argsort()],
                          torch.ones(2))
            scores = score_limbs(peaks, pafs, 8.0, COCO_18, scoring, 400.0).scores
            expected.append(bool(torch.isfinite(scores[k]).any()))
    assert passes.tolist() == expected
    assert 0.2 < sum(expected) / len(expected) < 0.8  # the field puts limbs on both sides of the test
