"""The hiding clips of scripts/track_clips.py show what they claim: one person hidden for about a second, a flash that
is no one, a different person entering where another left."""

from __future__ import annotations


import importlib

import numpy as np

from ..conftest import REPO_ROOT


def test_a_hiding_clip_hides_b_for_a_second_and_keeps_the_flash_out_of_the_truth(dev_set, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO_ROOT / "scripts"))  # its dataclasses need it imported as a module
    clips = importlib.import_module("track_clips")
    dev = dev_set[1].parent
    clip = next(c for c in clips.CLIPS if c.name == "hide0")
    frames, truth = clips.render_clip(clip, clips.load_cutouts(dev), clips.backdrop(dev))
    assert len(frames) == len(truth) == clip.frames == 170
    b_counted = np.array([0 in t.ids[t.counted] for t in truth])
    assert b_counted[:40].sum() >= 35 and not b_counted[50:80].any() and b_counted[100:].all(), "B hidden ~1 s"
    assert all(set(t.ids.tolist()) <= {0, 1, 2} for t in truth), "the flash (walker 3) is no one"
    assert (np.abs(frames[60].astype(int) - frames[59].astype(int)).sum(axis=-1) > 60).sum() > 500, "it is drawn"
    a_last = max(f for f, t in enumerate(truth) if 1 in t.ids)
    d_first = min(f for f, t in enumerate(truth) if 2 in t.ids)
    assert 0 < d_first - a_last < 30, "D enters within a second of A leaving"


def test_the_complete_detector_gives_every_counted_person_and_the_flash(dev_set, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO_ROOT / "scripts"))
    clips, evaluate = importlib.import_module("track_clips"), importlib.import_module("track_eval")
    dev = dev_set[1].parent
    clip = next(c for c in clips.CLIPS if c.name == "hide0")
    cutouts = clips.load_cutouts(dev)
    _, truth = clips.render_clip(clip, cutouts, clips.backdrop(dev))
    ghosts = clips.ghost_poses(clip, cutouts)
    assert list(ghosts) == [60] and len(ghosts[60]) == 1
    exact = evaluate.truth_detections(truth, ghosts, 0.0)
    for f, (t, d) in enumerate(zip(truth, exact)):
        assert len(d) == t.counted.sum() + (f == 60), f
        shown = np.isfinite(d[: len(d) - (f == 60), :, 2])
        assert (shown == t.visible[t.counted]).all()
        assert np.allclose(d[: len(d) - (f == 60)][shown][:, :2], t.xy[t.counted][t.visible[t.counted]])
    noisy = evaluate.truth_detections(truth, ghosts, 5.0)
    moved = np.concatenate([np.hypot(*(n - e)[..., :2].reshape(-1, 2).T) for n, e in zip(noisy, exact)])
    assert 4.0 < np.nanmedian(moved) < 8.0, "5 px per axis: a median move of about 5.9 px"


def test_a_smaller_clip_has_the_same_paths_with_people_that_much_shorter(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO_ROOT / "scripts"))
    clips = importlib.import_module("track_clips")
    clip = clips.CLIPS[4]
    small = clips.smaller(clip, 0.35)
    assert small.name == f"{clip.name}-x0.35" and small.frames == clip.frames
    for big, little in zip(clip.walkers, small.walkers):
        assert little.height == big.height * 0.35
        assert (little.path, little.foot, little.first, little.last, little.ghost) == \
            (big.path, big.foot, big.first, big.last, big.ghost)
