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
