"""scripts/multiview_bench.py on the real Panoptic geometry (a few frames): the spoilt 2-D of three people in five
real cameras gives everyone back, nobody else, within millimetres; and the scoring counts what it should."""

from __future__ import annotations

import numpy as np
import pytest

from openpose_py.multiview import MultiviewConfig

from ..conftest import require_shared
from .conftest import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("multiview_bench")


@pytest.fixture(scope="module")
def panoptic(shared_dir):
    data = shared_dir / "data" / "panoptic-3d" / "160906_band2"
    require_shared(data)
    return data


def test_spoilt_views_of_real_cameras_give_every_person_back(script, panoptic):
    cams = script.load_cameras(panoptic, script.CAMERA_ORDER[:5])
    result = script.run(cams, frames=5, seed=1, spoil=script.Spoil(1.5, 0.08), config=MultiviewConfig(),
                        data=panoptic)
    assert result["people"] == 15 and result["recall"] == 1.0 and result["precision"] == 1.0
    assert result["mpjpe_mm"] < 25.0 and result["coverage"] > 0.85


def test_the_spoiling_swaps_drops_and_shuffles_as_described(script, panoptic):
    cams = script.load_cameras(panoptic, script.CAMERA_ORDER[:4])
    truth = script.load_bodies(panoptic)[0]
    views = script.spoil_views(truth, cams, np.random.default_rng(0), script.Spoil(0.0, 0.0), frame=0)
    assert [len(v) for v in views] == [3, 2, 3, 3]  # the last person missing from view 1
    clean = [cam.project(truth) for cam in cams]
    swapped = clean[0][0][list(script.SKELETON.flip_keypoints)]
    seen = views[0][..., 2] > 0
    assert any(np.allclose(v[s, :2], swapped[s]) for v, s in zip(views[0], seen))  # view 0, first person: swapped


def test_scoring_counts_matches_errors_and_coverage(script):
    truth = np.zeros((2, 18, 3))
    truth[1] += 1000.0
    found = truth[[1]] + 10.0  # one person found, 17.3 mm off
    found[0, 0] = np.nan
    s = script.score_frame(truth, found)
    assert (s["true"], s["found"], s["matched"], s["covered"], s["true_joints"]) == (2, 1, 1, 17, 36)
    np.testing.assert_allclose(s["errors"], np.sqrt(300.0))
