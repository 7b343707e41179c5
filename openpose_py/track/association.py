"""Which detection continues which track: the two matching steps of :class:`~openpose_py.track.PoseTracker`.

- :func:`match_live`: tracks seen within ``max_age`` against the frame's people, by OKS against each track's
  predicted pose (a pair below ``min_similarity`` never matches) blended with limb-colour similarity (a pair below
  ``min_appearance`` never matches), one-to-one by the Hungarian method.
- :func:`match_lost`: tracks about to be confirmed against lost tracks (unseen now, within ``reid_time``), by limb
  colour alone, near where the lost person was last seen: a returning person gets its id back; :func:`undecided`
  says which of the others could still be a lost person (their confirmation waits until their colours tell).

Shapes: T tracks, D detections, K keypoints, L limbs.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from .appearance import colour_similarity
from .config import TrackerConfig
from .motion import predict
from .similarity import keypoint_box_area, oks_matrix
from .state import Tracks

__all__ = ["MIN_LIMBS", "DOUBT", "match_live", "undecided", "match_lost"]

#: Limbs two people must both show for their colours to count (fewer: appearance is unknown, neutral).
MIN_LIMBS = 3
#: Appearance similarity given to a pair whose appearance is unknown (no frame, too few trusted limbs in common).
NEUTRAL = 0.5
#: Share of ``reid_similarity`` from which a new track's colours are in doubt against a lost track near it: it waits
#: for more frames (at most ``APPEARANCE_WAIT``) before it is told apart.
DOUBT = 0.8
_EMPTY = np.zeros(0, np.int64)


def match_live(tracks: Tracks, det_xy: np.ndarray, det_ok: np.ndarray, det_colour: np.ndarray,
               det_colour_ok: np.ndarray, t: float, sigmas: np.ndarray,
               config: TrackerConfig) -> tuple[np.ndarray, np.ndarray]:
    """(track rows, detection indices) matched one-to-one, each pair's OKS at least ``config.min_similarity`` and,
    where both show enough trusted limbs, their colours at least ``config.min_appearance`` alike.

    ``det_colour_ok`` (D, L) says which of a detection's limb colours may be trusted."""
    if len(tracks.ids) == 0 or len(det_xy) == 0:
        return _EMPTY, _EMPTY
    expected = predict(tracks.xy, tracks.velocity, t - tracks.t) if config.motion else tracks.xy
    oks = oks_matrix(expected, tracks.seen, det_xy, det_ok, sigmas, keypoint_box_area(tracks.xy, tracks.seen),
                     tolerance=config.min_tolerance_px)
    sim, unlike = oks, np.zeros(oks.shape, bool)
    if config.appearance_weight > 0 or config.min_appearance > 0:
        looks, count = colour_similarity(tracks.colour, tracks.colour_n > 0, det_colour, det_colour_ok)
        known = count >= MIN_LIMBS
        sim = (1.0 - config.appearance_weight) * oks + config.appearance_weight * np.where(known, looks, NEUTRAL)
        unlike = known & (looks < config.min_appearance)
    # a pair that may not match scores 0, as if left unmatched: the Hungarian method then finds the best matching of
    # the allowed pairs (a forbidden pair with a positive score could push an allowed one out of it)
    allowed = (oks >= max(config.min_similarity, 1e-9)) & ~unlike
    rows, cols = linear_sum_assignment(np.where(allowed, sim, 0.0), maximize=True)
    good = allowed[rows, cols]
    return rows[good].astype(np.int64), cols[good].astype(np.int64)


def _centre_and_height(xy: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) centre and (N,) height of each person's keypoint box (at least 1 pixel)."""
    mask = present[..., None]
    lo = np.where(mask, xy, np.inf).min(axis=1)
    hi = np.where(mask, xy, -np.inf).max(axis=1)
    return 0.5 * (lo + hi), np.maximum(hi[:, 1] - lo[:, 1], 1.0)


def undecided(new: Tracks, lost: Tracks, t: float, config: TrackerConfig) -> np.ndarray:
    """(rows of ``new``,) bool: some lost track with a known appearance is near enough to be this person and their
    colours cannot tell yet: the new track shows too few trusted limbs, or its colours are alike but less than
    ``config.reid_similarity`` (at least :data:`DOUBT` of it: a few frames more average out keypoint noise)."""
    known = (lost.colour_n > 0).sum(axis=1) >= MIN_LIMBS
    if len(new.ids) == 0 or not known.any():
        return np.zeros(len(new.ids), bool)
    lost = lost.select(np.flatnonzero(known))
    near = _distances(new, lost) <= _reach(lost, t)[:, None]  # (lost, new)
    looks, count = colour_similarity(lost.colour, lost.colour_n > 0, new.colour, new.colour_n > 0)
    few = (new.colour_n > 0).sum(axis=1) < MIN_LIMBS
    doubt = (count >= MIN_LIMBS) & (looks >= DOUBT * config.reid_similarity) & (looks < config.reid_similarity)
    return (near & (few[None] | doubt)).any(axis=0)


def _distances(new: Tracks, lost: Tracks) -> np.ndarray:
    """(lost, new) distances between the centres of their keypoint boxes."""
    lost_centre, new_centre = _centre_and_height(lost.xy, lost.seen)[0], _centre_and_height(new.xy, new.seen)[0]
    return np.sqrt(((lost_centre[:, None] - new_centre[None]) ** 2).sum(axis=-1))


def _reach(lost: Tracks, t: float) -> np.ndarray:
    """(lost,) how far from where it was last seen a lost person may be now: a walker covers about a body height per
    second."""
    return _centre_and_height(lost.xy, lost.seen)[1] * (1.0 + (t - lost.t))


def match_lost(new: Tracks, lost: Tracks, t: float, config: TrackerConfig) -> tuple[np.ndarray, np.ndarray]:
    """(rows of ``new``, rows of ``lost``) that are the same person: limb colours at least
    ``config.reid_similarity`` alike over at least :data:`MIN_LIMBS` limbs, and the new track's centre within
    (1 + seconds lost) body heights of where the lost one was last seen; one-to-one, most alike first."""
    if len(new.ids) == 0 or len(lost.ids) == 0:
        return _EMPTY, _EMPTY
    looks, count = colour_similarity(lost.colour, lost.colour_n > 0, new.colour, new.colour_n > 0)  # (lost, new)
    ok = (count >= MIN_LIMBS) & (looks >= config.reid_similarity) & (_distances(new, lost) <= _reach(lost, t)[:, None])
    if not ok.any():
        return _EMPTY, _EMPTY
    rows, cols = linear_sum_assignment(np.where(ok, looks, 0.0), maximize=True)
    good = ok[rows, cols]
    return cols[good].astype(np.int64), rows[good].astype(np.int64)
