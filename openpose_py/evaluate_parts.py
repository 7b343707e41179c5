"""Hands, faces and feet against COCO-WholeBody style ground truth: PCK of the hand box, face NME, feet PCK.

The measures (one implementation for ``openpose-py eval --hand/--face/--feet`` and ``scripts/parts_eval.py``):

- hands: PCK@0.2 of the labelled hand box (a labelled point is correct when the prediction lies within 0.2 x the
  longer side of the hand's box; a hand not found counts as wrong everywhere);
- faces: NME over the 68 labelled points, normalised by sqrt(w x h) of the labelled face box (and, beside it, by the
  distance between the outer eye corners, points 36 and 45); a face not found is counted apart, not averaged;
- feet: PCK@0.1 of the person's box (its longer side) on the heels and big toes; the small toes are never given
  (:data:`openpose_py.parts.feet.FEET_NOT_GIVEN`) and are not counted.

Each labelled person is matched one-to-one (Hungarian, mean distance of the common COCO-17 points) to a found person;
an unmatched one has no parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .results import Person

__all__ = ["PART_NAMES", "PartsScore", "pck", "face_nme", "box_of", "match_people", "score_parts", "add_scores",
           "parts_table"]

#: The parts ``score_parts`` can measure, as the CLI names them.
PART_NAMES = ("hands", "face", "feet")
#: COCO-WholeBody's ``foot_kpts`` order (BODY_25 names); the small toes are not counted.
FEET_WB = ("LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel")
_FEET_COUNTED = np.array([True, False, True, True, False, True])
HAND_ALPHA = 0.2
FEET_ALPHA = 0.1


def pck(pred: np.ndarray, ref: np.ndarray, visible: np.ndarray, scale: float, alpha: float) -> tuple[int, int]:
    """(correct, counted) over the ``visible`` reference points: within ``alpha x scale`` pixels; NaN is wrong."""
    d = np.linalg.norm(np.asarray(pred, float)[:, :2] - np.asarray(ref, float)[:, :2], axis=1)
    ok = np.isfinite(d) & (d <= alpha * scale)
    visible = np.asarray(visible, bool)
    return int((ok & visible).sum()), int(visible.sum())


def face_nme(pred: np.ndarray, ref: np.ndarray, box_side: float) -> tuple[float, float]:
    """(mean error / ``box_side``, mean error / outer-eye-corner distance) over the reference's labelled points
    (a third column <= 0 or NaN: unlabelled): the 68 iBUG points, or OpenPose's 70 with the pupils; ``pred`` in
    OpenPose's order (its first ``len(ref)`` points are compared)."""
    ref = np.asarray(ref, float)
    labelled = np.nan_to_num(ref[:, 2]) > 0
    distances = np.linalg.norm(np.asarray(pred, float)[:len(ref), :2] - ref[:, :2], axis=1)
    err = float(np.nanmean(distances[labelled]))  # a point the prediction lacks (a pupil) is left out
    return err / box_side, err / float(np.linalg.norm(ref[36, :2] - ref[45, :2]))


def box_of(points: np.ndarray) -> tuple[float, float, float, float]:
    """[x, y, w, h] around the finite points."""
    x0, y0 = np.nanmin(points[:, :2], axis=0)
    x1, y1 = np.nanmax(points[:, :2], axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def match_people(found: Sequence[Person], refs: Sequence[np.ndarray]) -> dict[int, int]:
    """Reference index -> found person index, one-to-one (Hungarian) by the mean distance of the COCO-17 points both
    have (reference: (17, 3) rows with a third column > 0); pairs with no common point are not made."""
    from scipy.optimize import linear_sum_assignment

    if not found or not refs:
        return {}
    ours = np.stack([p.to_coco17() for p in found])
    cost = np.full((len(refs), len(found)), 1e9)
    for r, ref in enumerate(refs):
        both = (np.asarray(ref)[None, :, 2] > 0) & (ours[:, :, 2] > 0)
        d = np.linalg.norm(ours[:, :, :2] - np.asarray(ref, float)[None, :, :2], axis=2)
        n = both.sum(axis=1)
        cost[r] = np.where(n > 0, (d * both).sum(axis=1) / np.maximum(n, 1), 1e9)
    rows, cols = linear_sum_assignment(cost)
    return {int(r): int(c) for r, c in zip(rows, cols) if cost[r, c] < 1e8}


@dataclass(frozen=True)
class PartsScore:
    """Tallies over a set of labelled people; add two with :func:`add_scores`.

    Attributes:
        hands: (correct, counted points, labelled hands); face_errors: per found face (NME of the box, of the eyes);
        faces: labelled faces; feet: (correct, counted points, labelled people with feet).
    """

    hands: tuple[int, int, int] = (0, 0, 0)
    face_errors: tuple[tuple[float, float], ...] = ()
    faces: int = 0
    feet: tuple[int, int, int] = (0, 0, 0)
    measured: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures of the measured parts: None where the ground truth labels none."""
        out: dict[str, Any] = {}
        if "hands" in self.measured:
            c, n, k = self.hands
            out["hands"] = {"pck@0.2": c / n if n else None, "hands": k, "points": n}
        if "face" in self.measured:
            errs = np.asarray(self.face_errors, float).reshape(-1, 2)
            found = len(errs)
            out["face"] = {"nme": float(errs[:, 0].mean()) if found else None,
                           "nme_interocular": float(errs[:, 1].mean()) if found else None,
                           "faces": self.faces, "found": found}
        if "feet" in self.measured:
            c, n, k = self.feet
            out["feet"] = {"pck@0.1": c / n if n else None, "people": k, "points": n}
        return out


def add_scores(scores: Iterable[PartsScore]) -> PartsScore:
    """The tallies of several images together."""
    total = PartsScore()
    for s in scores:
        total = PartsScore(tuple(a + b for a, b in zip(total.hands, s.hands)), total.face_errors + s.face_errors,
                           total.faces + s.faces, tuple(a + b for a, b in zip(total.feet, s.feet)),
                           total.measured or s.measured)
    return total


def score_parts(found: Sequence[Person], annotations: Sequence[Mapping[str, Any]],
                parts: Sequence[str]) -> PartsScore:
    """The ``parts`` (of :data:`PART_NAMES`) of one image's found people against its COCO-WholeBody annotations
    (``lefthand_kpts``/``righthand_kpts`` with their boxes and ``*_valid`` flags, ``face_kpts``/``face_box``,
    ``foot_kpts``); annotations without those fields add nothing."""
    unknown = set(parts) - set(PART_NAMES)
    if unknown:
        raise ValueError(f"unknown part {sorted(unknown)[0]!r}; known: {', '.join(PART_NAMES)}")
    people = [a for a in annotations if not a.get("iscrowd", 0) and a.get("num_keypoints", 0) > 0]
    refs = [np.asarray(a["keypoints"], float).reshape(17, 3) for a in people]
    pairs = match_people(found, refs)
    hands, feet, faces, errors = [0, 0, 0], [0, 0, 0], 0, []
    for r, ann in enumerate(people):
        person = found[pairs[r]] if r in pairs else None
        if "hands" in parts:
            for side, part in (("left", "left_hand"), ("right", "right_hand")):
                tally = _hand(ann, side, person.part_array(part) if person is not None else None)
                hands = [a + b for a, b in zip(hands, tally)]
        if "face" in parts and ann.get("face_valid") and "face_kpts" in ann:
            faces += 1
            error = _face(ann, person)
            errors += [error] if error is not None else []
        if "feet" in parts and ann.get("foot_valid") and "foot_kpts" in ann:
            feet = [a + b for a, b in zip(feet, _feet(ann, person))]
    return PartsScore(tuple(hands), tuple(errors), faces, tuple(feet), tuple(p for p in PART_NAMES if p in parts))


def _hand(ann: Mapping[str, Any], side: str, pred: np.ndarray | None) -> tuple[int, int, int]:
    if not ann.get(f"{side}hand_valid") or f"{side}hand_kpts" not in ann:
        return 0, 0, 0
    ref = np.asarray(ann[f"{side}hand_kpts"], float).reshape(21, 3)
    pred = np.full((21, 3), np.nan) if pred is None else pred
    correct, counted = pck(pred, ref, ref[:, 2] > 0, max(ann[f"{side}hand_box"][2:]), HAND_ALPHA)
    return correct, counted, 1


def _face(ann: Mapping[str, Any], person: Person | None) -> tuple[float, float] | None:
    pred = person.part_array("face") if person is not None else None
    if pred is None or not np.isfinite(pred[:68, :2]).all():
        return None
    w, h = ann["face_box"][2:]
    return face_nme(pred, np.asarray(ann["face_kpts"], float).reshape(68, 3), float(np.sqrt(w * h)))


def _feet(ann: Mapping[str, Any], person: Person | None) -> tuple[int, int, int]:
    ref = np.asarray(ann["foot_kpts"], float).reshape(6, 3)
    if person is not None and all(n in person.skeleton.keypoints for n in FEET_WB):
        pred = np.array([[k.x, k.y, k.score] if (k := person[n]) is not None else [np.nan] * 3 for n in FEET_WB])
    else:
        pred = np.full((6, 3), np.nan)
    correct, counted = pck(pred, ref, (ref[:, 2] > 0) & _FEET_COUNTED, max(ann["bbox"][2:]), FEET_ALPHA)
    return correct, counted, 1


def parts_table(score: PartsScore) -> str:
    """A few plain lines, one per measured part, for under pycocotools' table."""
    figures = score.as_dict()
    lines = []
    if "hands" in figures:
        h = figures["hands"]
        lines.append(f" hands  PCK@0.2 of the hand box  {h['pck@0.2']:.3f}  ({h['hands']} labelled hands, {h['points']} "
                     f"points; a hand not found counts as wrong)" if h["hands"] else " hands  no labelled hands")
    if "face" in figures:
        f = figures["face"]
        lines.append(f" face   NME (sqrt of the face box area)  {f['nme']:.4f}, interocular {f['nme_interocular']:.4f}  "
                     f"({f['found']} of {f['faces']} labelled faces found)" if f["found"] else
                     f" face   no face found of {f['faces']} labelled")
    if "feet" in figures:
        t = figures["feet"]
        lines.append(f" feet   PCK@0.1 of the person box  {t['pck@0.1']:.3f}  ({t['people']} labelled people, {t['points']} "
                     f"heel and big-toe points; small toes are never given)" if t["points"] else " feet   no labelled feet")
    return "\n".join(["Parts (COCO-WholeBody labels):", *lines])
