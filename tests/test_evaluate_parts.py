"""Parts against COCO-WholeBody labels: exact figures on a synthetic person, the shared file's labels read right."""

from __future__ import annotations

import json

import numpy as np
import pytest

from openpose_py.evaluate_parts import FEET_WB, add_scores, parts_table, score_parts
from openpose_py.results import people_from_array
from openpose_py.skeleton import BODY_25


def _person(body17: np.ndarray, feet: np.ndarray | None = None, **parts: np.ndarray | None):
    """A BODY_25 person with these COCO-17 points (x, y, v), foot points in COCO-WholeBody order, and parts."""
    rows = np.full((25, 3), np.nan)
    for slot, idx in enumerate(BODY_25.coco17):
        if body17[slot, 2] > 0:
            rows[idx] = (*body17[slot, :2], 1.0)
    for n, point in zip(FEET_WB, feet if feet is not None else ()):
        rows[BODY_25.index(n)] = (*point[:2], 1.0)
    (person,) = people_from_array(rows[None], BODY_25)
    return person.with_parts(**parts)


def _labelled(rng: np.random.Generator) -> dict:
    """One COCO-WholeBody annotation: a body, a right hand in a 100 x 50 box, a face in a 40 x 90 box, both feet."""
    body = np.column_stack([rng.uniform(0, 200, (17, 2)), np.full(17, 2.0)])
    hand = np.column_stack([rng.uniform(0, 50, (21, 2)), np.full(21, 2.0)])
    face = np.column_stack([rng.uniform(0, 40, (68, 2)), np.full(68, 2.0)])
    face[36, :2], face[45, :2] = (0.0, 0.0), (30.0, 40.0)  # outer eye corners 50 px apart
    feet = np.column_stack([rng.uniform(0, 100, (6, 2)), np.full(6, 2.0)])
    return {"image_id": 1, "id": 7, "iscrowd": 0, "num_keypoints": 17, "keypoints": body.ravel().tolist(),
            "bbox": [0.0, 0.0, 200.0, 150.0], "lefthand_valid": True, "lefthand_box": [0, 0, 30, 30],
            "lefthand_kpts": hand.ravel().tolist(), "righthand_valid": True, "righthand_box": [0, 0, 100, 50],
            "righthand_kpts": hand.ravel().tolist(), "face_valid": True, "face_box": [0, 0, 40, 90],
            "face_kpts": face.ravel().tolist(), "foot_valid": True, "foot_kpts": feet.ravel().tolist()}


def test_figures_of_a_synthetic_person_are_exact():
    ann = _labelled(np.random.default_rng(0))
    body = np.reshape(ann["keypoints"], (17, 3))
    hand = np.reshape(ann["righthand_kpts"], (21, 3)).copy()
    hand[:11, 0] += 19.0  # within 0.2 x 100 px
    hand[11:, 0] += 21.0  # beyond it
    face = np.vstack([np.reshape(ann["face_kpts"], (68, 3)), np.full((2, 3), np.nan)])
    face[:68, 1] += 3.0  # 3 px everywhere: NME 3 / sqrt(40 x 90) = 0.05, 3 / 50 between the eye corners
    feet = np.reshape(ann["foot_kpts"], (6, 3)).copy()
    feet[[0, 1], 0] += 14.0  # big and small toe of the left foot within 0.1 x 200 px, the right ones beyond
    feet[[2, 3, 4, 5], 0] += 25.0
    found = [_person(body, feet, right_hand=hand, left_hand=np.full((21, 3), np.nan), face=face)]
    score = score_parts(found, [ann], ("hands", "face", "feet"))
    figures = score.as_dict()
    # the left hand is labelled and not found: 21 wrong points beside the right hand's 11 of 21
    assert figures["hands"] == {"pck@0.2": 11 / 42, "hands": 2, "points": 42}
    assert figures["face"]["nme"] == pytest.approx(0.05) and figures["face"]["nme_interocular"] == pytest.approx(0.06)
    assert (figures["face"]["faces"], figures["face"]["found"]) == (1, 1)
    # small toes are never given, so not counted: of the heels and big toes only the left big toe is near
    assert figures["feet"] == {"pck@0.1": 1 / 4, "people": 1, "points": 4}
    twice = add_scores([score, score]).as_dict()
    assert twice["hands"]["points"] == 84 and twice["face"]["faces"] == 2 and twice["feet"]["pck@0.1"] == 1 / 4
    assert "0.262" in parts_table(score) and "1 of 1 labelled faces found" in parts_table(score)


def test_nobody_found_and_what_is_not_asked():
    ann = _labelled(np.random.default_rng(1))
    figures = score_parts([], [ann], ("hands", "face", "feet")).as_dict()
    assert figures["hands"]["pck@0.2"] == 0.0 and figures["feet"]["pck@0.1"] == 0.0
    assert figures["face"] == {"nme": None, "nme_interocular": None, "faces": 1, "found": 0}
    assert set(score_parts([], [ann], ("face",)).as_dict()) == {"face"}
    plain = {k: v for k, v in ann.items() if "hand" not in k}  # a COCO file without hand labels
    assert score_parts([], [plain], ("hands",)).as_dict()["hands"] == {"pck@0.2": None, "hands": 0, "points": 0}
    with pytest.raises(ValueError, match="unknown part 'toes'"):
        score_parts([], [ann], ("toes",))


def test_the_shared_wholebody_labels_score_themselves_perfectly(shared_dir):
    """The labels given back as found people (hands, face, feet in place) score 1.0 / 0.0 (float32 parts) / 1.0: the file's fields,
    boxes and orders are read as COCO-WholeBody means them."""
    doc = json.loads((shared_dir / "data" / "mmpose-samples" / "coco" / "test_coco_wholebody.json").read_text())
    scores = []
    for image_id in {a["image_id"] for a in doc["annotations"]}:
        anns = [a for a in doc["annotations"] if a["image_id"] == image_id]
        found = [_person(np.reshape(a["keypoints"], (17, 3)), np.reshape(a["foot_kpts"], (6, 3)),
                         left_hand=_part(a["lefthand_kpts"], 21), right_hand=_part(a["righthand_kpts"], 21),
                         face=np.vstack([_part(a["face_kpts"], 68), np.full((2, 3), np.nan)]))
                 for a in anns if a["num_keypoints"] > 0]
        scores.append(score_parts(found[::-1], anns, ("hands", "face", "feet")))  # order of the found is free
    figures = add_scores(scores).as_dict()
    assert figures["hands"] == {"pck@0.2": 1.0, "hands": 10, "points": 210}
    assert figures["face"]["nme"] == pytest.approx(0.0, abs=1e-5) and (figures["face"]["faces"], figures["face"]["found"]) == (4, 4)
    assert figures["feet"]["pck@0.1"] == 1.0 and figures["feet"]["people"] == 10


def _part(flat: list[float], n: int) -> np.ndarray:
    rows = np.reshape(flat, (n, 3)).astype(float)
    rows[rows[:, 2] <= 0] = np.nan
    rows[:, 2] = np.where(np.isfinite(rows[:, 2]), 1.0, np.nan)
    return rows
