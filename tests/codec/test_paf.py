"""PafCodec: people -> target maps -> the same people; its description round-trips; bad conventions are refused."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import torch

from openpose_py.codec import DECODER_PRESETS, HeadMaps, PafCodec
from openpose_py.decode.decoder import PRESETS
from openpose_py.results import people_from_array
from openpose_py.skeleton import BODY_25, COCO_18, MPI_15
from openpose_py.weights import get_spec

from ..decode.test_decoder import _synthetic_crowd

_MPI_POSE = [(100, 20), (100, 40), (85, 40), (80, 60), (78, 80), (115, 40), (120, 60), (122, 80), (90, 100),
             (90, 130), (90, 160), (110, 100), (110, 130), (110, 160), (100, 70)]


def _assert_same_people(decoded, truth, tolerance: float) -> None:
    assert len(decoded) == len(truth)
    for person in decoded:
        found = person.as_array()
        match = min(truth, key=lambda t: np.nanmean(np.abs(found[:, :2] - t.as_array()[:, :2])))
        want = match.as_array()
        np.testing.assert_array_equal(np.isnan(found[:, 0]), np.isnan(want[:, 0]))  # the same keypoints present
        assert np.nanmax(np.abs(found[:, :2] - want[:, :2])) < tolerance


@pytest.mark.parametrize("preset", DECODER_PRESETS)
def test_encoded_ground_truth_decodes_to_the_same_people(preset):
    """Six people of the registered lightweight entry's codec (a wrist and an ankle missing on one of them) come back
    with the same keypoints, each within a pixel, by every decoder preset."""
    codec = dataclasses.replace(get_spec("lightweight").codec, decoder=preset)
    points = _synthetic_crowd(np.random.default_rng(3), COCO_18, people=6).numpy()
    points[2, [COCO_18.index("RWrist"), COCO_18.index("LAnkle")]] = 0.0
    truth = people_from_array(points, COCO_18)
    maps = codec.encode(truth, (46, 62))
    assert maps.heatmaps.shape == (19, 46, 62) and maps.pafs.shape == (38, 46, 62)
    _assert_same_people(codec.decode(maps).people, truth, tolerance=1.0)


def test_a_wider_codec_round_trips_other_skeletons_and_encodes_tensors_alike():
    codec = PafCodec(MPI_15, stride=8, sigma=5.0, paf_width=2.0)
    points = np.concatenate((np.array(_MPI_POSE, np.float32), np.ones((15, 1), np.float32)), 1)[None]
    truth = people_from_array(points, MPI_15)
    maps = codec.encode(truth, (24, 20))
    from_tensor = codec.encode(torch.from_numpy(points), (24, 20))
    assert torch.equal(maps.heatmaps, from_tensor.heatmaps) and torch.equal(maps.pafs, from_tensor.pafs)
    _assert_same_people(codec.decode(maps).people, truth, tolerance=1.0)
    assert codec.map_size((160, 192)) == (24, 20)
    # the convention matters: the same maps read with a codec of another stride place people elsewhere
    moved = PafCodec(MPI_15, stride=4).decode(HeadMaps(*maps)).people
    assert abs(moved[0].as_array()[0, 0] - truth[0].as_array()[0, 0]) > 40


def test_the_description_round_trips_and_bad_conventions_are_refused_in_one_line():
    codec = PafCodec(BODY_25, stride=8, sigma=6.5, paf_width=1.5, decoder="openpose-cpp")
    assert PafCodec.from_dict(codec.to_dict()) == codec
    assert codec.decoder_config() == PRESETS["openpose-cpp"]
    assert codec.decoder_config(min_parts=5).min_parts == 5
    for bad, message in (({"sigma": 0.0}, "sigma must be a number in (0, 1000], got 0.0"),
                         ({"paf_width": float("nan")}, "paf_width must be a number in (0, 1000], got nan"),
                         ({"stride": 8.0}, "stride must be an integer in [1, 64], got 8.0"),
                         ({"decoder": "fast"}, "decoder must be one of default, cvpr2017, openpose-cpp, got 'fast'")):
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            codec.replace(**bad)
    with pytest.raises(ValueError, match="unknown codec kind 'cif'"):
        PafCodec.from_dict({**codec.to_dict(), "kind": "cif"})
    with pytest.raises(ValueError, match="a COCO_18 person cannot be encoded by a BODY_25 codec"):
        codec.encode(people_from_array(np.ones((1, 18, 3)), COCO_18), (8, 8))


def test_the_preset_names_known_without_torch_are_the_decoders():
    assert DECODER_PRESETS == tuple(PRESETS)


def test_every_registered_entry_carries_the_codec_of_its_skeleton_and_stride():
    from openpose_py.weights import list_specs

    for spec in list_specs():
        assert spec.codec.skeleton == spec.skeleton and spec.codec.stride == spec.preprocess.stride, spec.name
        assert (spec.codec.sigma, spec.codec.paf_width) == (7.0, 1.0), spec.name  # the reference trainings'
