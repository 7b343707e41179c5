"""The decoder against its oracle: ground truth encoded into maps must decode back into the same people."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from openpose_py.decode.decoder import PRESETS, DecoderConfig, decode
from openpose_py.codec.encode import encode_heatmaps, encode_pafs
from openpose_py.evaluate import keypoint_stats, load_coco
from openpose_py.preprocess import PreprocessSpec, input_geometry
from openpose_py.results import coco_results
from openpose_py.skeleton import BODY_25, COCO_18, MPI_15, Skeleton


def _connected(skeleton: Skeleton, present: set[int]) -> bool:
    """Do the present keypoints form one connected piece of the limb graph?"""
    if not present:
        return False
    seen, todo = set(), [next(iter(present))]
    while todo:
        k = todo.pop()
        seen.add(k)
        for lb in skeleton.limbs:
            for u, v in ((lb.a, lb.b), (lb.b, lb.a)):
                if u == k and v in present and v not in seen:
                    todo.append(v)
    return seen == present


def _round_trip_ap(ann_file: Path, skeleton: Skeleton, config: DecoderConfig, only_representable: bool,
                   scratch: Path):
    gt = load_coco(ann_file)
    spec = PreprocessSpec(height=368)
    results, kept_anns = [], []
    for img_id in gt.getImgIds():
        info = gt.loadImgs(img_id)[0]
        anns = [a for a in gt.loadAnns(gt.getAnnIds(imgIds=img_id)) if a["num_keypoints"] > 0 and not a["iscrowd"]]
        box = input_geometry(info["width"], info["height"], spec)
        kp = skeleton.from_coco17(np.array([a["keypoints"] for a in anns], np.float32).reshape(-1, 17, 3))
        kp[..., :2] = box.to_input(kp[..., :2])
        kp[..., 2] = kp[..., 2] > 0
        for a, person in zip(anns, kp):
            present = {i for i in range(skeleton.num_keypoints) if person[i, 2] > 0}
            counted = sum(skeleton.counted[i] for i in present)
            if not only_representable or (_connected(skeleton, present) and counted >= config.min_parts):
                kept_anns.append(a)
        size = (box.input_size[1] // 8, box.input_size[0] // 8)
        t = torch.from_numpy(kp)
        decoded = decode(encode_heatmaps(t, size), encode_pafs(t, skeleton, size), skeleton, config,
                         content_size=box.content_size)
        results += coco_results([p.transformed(*box.affine) for p in decoded.people], img_id)
    data = json.loads(Path(ann_file).read_text())
    kept_ids = {a["id"] for a in kept_anns}
    data["annotations"] = [a for a in data["annotations"] if a["id"] in kept_ids or a["num_keypoints"] == 0]
    kept_file = scratch / "kept.json"
    kept_file.write_text(json.dumps(data))
    stats, _ = keypoint_stats(load_coco(kept_file), results)
    return stats["AP"], len(kept_ids)


@pytest.mark.parametrize("skeleton", [COCO_18, BODY_25])
def test_round_trip_on_the_dev_set(dev_set, skeleton, tmp_path):
    """Every annotated person the skeleton can represent (keypoints connected by limbs, enough parts) comes back."""
    ap, n = _round_trip_ap(dev_set[1], skeleton, DecoderConfig(), only_representable=True, scratch=tmp_path)
    assert n >= 11
    assert ap >= 0.99


def test_round_trip_on_all_dev_annotations(dev_set, tmp_path):
    # A lone ankle, or hips without a neck, cannot be grouped by any PAF decoder; everything else comes back.
    ap, n = _round_trip_ap(dev_set[1], COCO_18, DecoderConfig(), only_representable=False, scratch=tmp_path)
    assert n == 14
    assert ap >= 0.75


def _synthetic_crowd(rng: np.random.Generator, skeleton: Skeleton, people: int, size=(46, 62)):
    h, w = size
    template = np.array([(0, -60), (0, -40), (-15, -40), (-22, -18), (-25, 2), (15, -40), (22, -18), (25, 2),
                         (-10, 5), (-12, 35), (-13, 65), (10, 5), (12, 35), (13, 65), (-5, -65), (5, -65),
                         (-10, -62), (10, -62)], np.float32)
    kp = np.zeros((people, 18, 3), np.float32)
    for p in range(people):
        scale = rng.uniform(0.6, 1.4)
        centre = np.array([(p + 0.5) * (w * 8) / people, rng.uniform(0.4, 0.6) * h * 8])
        kp[p, :, :2] = template * scale + centre + rng.normal(0, 1.5, (18, 2))
        kp[p, :, 2] = 1
    return torch.from_numpy(kp)


@pytest.mark.parametrize("engine", ["numpy", "torch"])
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_synthetic_crowd_decodes_exactly(preset, engine):
    rng = np.random.default_rng(1)
    kp = _synthetic_crowd(rng, COCO_18, people=6)
    size = (46, 62)
    if engine == "numpy" and PRESETS[preset].blur_sigma > 0:
        engine = "auto"  # the numpy engine does not blur: auto takes torch
    decoded = decode(encode_heatmaps(kp, size), encode_pafs(kp, COCO_18, size), COCO_18, PRESETS[preset],
                     engine=engine)
    assert len(decoded.people) == 6
    truth = kp.numpy()
    for person in decoded.people:
        arr = person.as_array()
        assert not np.isnan(arr).any()
        match = np.argmin([np.abs(arr[:, :2] - t[:, :2]).mean() for t in truth])
        assert np.abs(arr[:, :2] - truth[match, :, :2]).max() < 3.0


def test_body25_feet_do_not_count_toward_min_parts():
    kp = torch.zeros(1, 25, 3)
    for name, xy in {"LAnkle": (100, 100), "LBigToe": (110, 120), "LSmallToe": (120, 124), "LHeel": (95, 118),
                     "LKnee": (100, 60)}.items():
        kp[0, BODY_25.index(name)] = torch.tensor([*xy, 1.0])
    size = (24, 24)
    maps = encode_heatmaps(kp, size), encode_pafs(kp, BODY_25, size)
    assert decode(*maps, BODY_25, DecoderConfig(min_parts=4)).people == []
    assert len(decode(*maps, BODY_25, DecoderConfig(min_parts=2)).people) == 1


def test_mpi_skeleton_decodes():
    kp = torch.zeros(1, 15, 3)
    pts = [(100, 20), (100, 40), (85, 40), (80, 60), (78, 80), (115, 40), (120, 60), (122, 80), (90, 100),
           (90, 130), (90, 160), (110, 100), (110, 130), (110, 160), (100, 70)]
    kp[0, :, :2] = torch.tensor(pts, dtype=torch.float32)
    kp[0, :, 2] = 1
    size = (24, 20)
    people = decode(encode_heatmaps(kp, size), encode_pafs(kp, MPI_15, size), MPI_15, DecoderConfig()).people
    assert len(people) == 1 and people[0].num_parts == 15


@pytest.mark.parametrize("engine", ["auto", "torch"])
@pytest.mark.parametrize("kind", ["zeros", "ones", "nan", "inf", "random", "negative", "tiny"])
def test_fuzz_never_crashes(kind, engine):
    rng = torch.Generator().manual_seed(0)
    shape = (1, 1) if kind == "tiny" else (23, 31)
    makers = {
        "zeros": lambda c: torch.zeros(c, *shape),
        "ones": lambda c: torch.ones(c, *shape),
        "nan": lambda c: torch.full((c, *shape), float("nan")),
        "inf": lambda c: torch.full((c, *shape), float("inf")),
        "random": lambda c: torch.rand(c, *shape, generator=rng) * 2 - 0.5,
        "negative": lambda c: -torch.rand(c, *shape, generator=rng),
        "tiny": lambda c: torch.rand(c, *shape, generator=rng),
    }
    for config in (DecoderConfig(), PRESETS["cvpr2017"], DecoderConfig(matching="optimal", max_people=3)):
        out = decode(makers[kind](19), makers[kind](38), COCO_18, config, engine=engine)
        for person in out.people:
            assert np.isfinite(person.score)
            arr = person.as_array()
            assert np.all(np.isfinite(arr[~np.isnan(arr[:, 0])]))
        if config.max_people is not None:
            assert len(out.people) <= config.max_people


def _people(decoded) -> list[tuple]:
    return [(p.score, [None if k is None else (k.x, k.y, k.score) for k in p.keypoints]) for p in decoded.people]


@pytest.mark.parametrize("config", [DecoderConfig(), DecoderConfig(upsample=1, refine="centroid", neighbourhood=4),
                                    PRESETS["openpose-cpp"], DecoderConfig(matching="optimal", paf_samples=None)])
def test_numpy_and_torch_engines_find_the_same_people(config):
    """The CPU engine (NumPy, upsampling only near peaks) and the torch one (any device) agree on noisy maps."""
    rng = np.random.default_rng(4)
    kp = _synthetic_crowd(rng, COCO_18, people=5)
    size = (46, 62)
    noise = torch.Generator().manual_seed(4)
    heatmaps = encode_heatmaps(kp, size) * 0.8 + 0.02 * torch.randn(19, *size, generator=noise)
    pafs = encode_pafs(kp, COCO_18, size) * 0.7 + 0.05 * torch.randn(38, *size, generator=noise)
    fast = decode(heatmaps, pafs, COCO_18, config, content_size=(480, 360))
    slow = decode(heatmaps, pafs, COCO_18, config, content_size=(480, 360), engine="torch")
    assert torch.equal(fast.peaks.part, slow.peaks.part) and len(fast.people) >= 4
    assert torch.allclose(fast.peaks.xy, slow.peaks.xy, atol=1e-3)
    for (score_a, a), (score_b, b) in zip(_people(fast), _people(slow), strict=True):
        assert abs(score_a - score_b) < 1e-4
        for u, v in zip(a, b):
            assert (u is None) == (v is None)
            assert u is None or np.allclose(u, v, atol=1e-3)


def test_the_numpy_engine_needs_cpu_maps_without_blur():
    maps = torch.zeros(19, 8, 8), torch.zeros(38, 8, 8)
    with pytest.raises(ValueError, match="numpy decoder needs CPU maps and blur_sigma 0"):
        decode(*maps, COCO_18, PRESETS["cvpr2017"], engine="numpy")
    with pytest.raises(ValueError, match="engine must be one of auto, torch, numpy"):
        decode(*maps, COCO_18, DecoderConfig(), engine="fast")
    # float16 maps and maps that need a gradient are read as float32
    half = decode(maps[0].half(), maps[1].requires_grad_(), COCO_18, DecoderConfig(), engine="numpy")
    assert half.people == [] and half.peaks.xy.dtype == torch.float32


def test_wrong_channel_counts_are_rejected():
    with pytest.raises(ValueError, match="needs 18"):
        decode(torch.zeros(10, 8, 8), torch.zeros(38, 8, 8), COCO_18, DecoderConfig())


def test_presets_and_overrides():
    assert DecoderConfig.preset("cvpr2017").blur_sigma == 3.0
    assert DecoderConfig.preset("openpose-cpp", min_parts=5).min_parts == 5
    with pytest.raises(ValueError, match="unknown decoder preset 'nope'; known: default, cvpr2017, openpose-cpp"):
        DecoderConfig.preset("nope")
    with pytest.raises(TypeError):
        DecoderConfig().replace(bogus=1)
    with pytest.raises(ValueError):
        DecoderConfig(neighbourhood=6)


@pytest.mark.parametrize("field, value, message", [
    # each of these was accepted and then found no one, or a hundred people in one photo, without a word
    ("peak_threshold", float("nan"), "peak_threshold must be a number in [0, 1], got nan"),
    ("peak_threshold", -1.0, "peak_threshold must be a number in [0, 1], got -1.0"),
    ("peak_threshold", "0.1", "peak_threshold must be a number in [0, 1], got '0.1'"),
    ("paf_threshold", float("nan"), "paf_threshold must be a number in [-1, 1], got nan"),
    ("min_inlier_ratio", 5, "min_inlier_ratio must be a number in [0, 1], got 5"),
    ("max_peaks", 0, "max_peaks must be an integer in [1, 100000], got 0"),
    ("paf_samples", 0, "paf_samples must be an integer in [2, 1000] or None, got 0"),
    ("max_people", -1, "max_people must be an integer in [0, 1e+09] or None, got -1"),
    ("max_people", 1.5, "max_people must be an integer in [0, 1e+09] or None, got 1.5"),
    ("min_parts", 0, "min_parts must be an integer in [1, 1000], got 0"),
    ("min_mean_score", float("nan"), "min_mean_score must be a number in [0, 1000], got nan"),
    ("upsample", 1.5, "upsample must be an integer in [1, 64], got 1.5"),
    ("blur_sigma", -1.0, "blur_sigma must be a number in [0, 100], got -1.0"),
    ("refine_radius", -2, "refine_radius must be an integer in [0, 64], got -2"),
    ("short_limb_fraction", -1.0, "short_limb_fraction must be a number in [0, 1] or None, got -1.0"),
    ("refine", "fancy", "refine must be one of none, centroid, quadratic, gaussian, got 'fancy'"),
    ("person_score", "max", "person_score must be one of sum, mean, part_mean, sum_x_parts, got 'max'"),
])
def test_a_field_out_of_its_range_is_refused_at_construction(field, value, message):
    with pytest.raises(ValueError) as caught:
        DecoderConfig().replace(**{field: value})
    assert str(caught.value) == message
