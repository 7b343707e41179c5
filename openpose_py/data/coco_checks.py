"""The one check of a COCO person-keypoint annotation file, shared by training (:mod:`openpose_py.data.coco`) and
evaluation (:func:`openpose_py.evaluate.load_coco`).

Every record is checked before anything uses the file, so that a bad one is reported up front, in one line naming it
(``images[3]``, ``annotation 426554 (entry 0 of 'annotations')``), rather than failing with a traceback halfway
through a run, or silently changing a dataset or a score.

What a record must be:

* image: an object with an integer ``id`` (not a bool or a float; listed once), a non-empty string ``file_name``,
  and positive integer ``height`` and ``width``;
* category: an object with an integer ``id``; one of them has the 17 COCO keypoints (the person category);
* annotation: an object with integer ``image_id`` and ``category_id`` naming a listed image and category, an integer
  ``id`` if it has one (every id once), ``iscrowd`` 0 or 1 (``false``/``true`` too) if it has one; a person's
  ``keypoints`` 51 finite numbers with visibilities 0, 1 or 2, ``bbox`` 4 numbers (width and height >= 0), ``area``
  a number >= 0, ``num_keypoints`` the count of labelled keypoints, where present; category ids listed once.

For evaluation (``evaluation=True``) a person annotation also needs the fields pycocotools' keypoint evaluation reads
(:data:`EVAL_FIELDS`), every annotation an ``id``, and the person category id 1 (the one COCO results name).

A missing ``iscrowd`` reads as 0 (not a crowd), deliberately, in training and evaluation alike (COCO files always
have it, some COCO-format exports leave it out; :func:`openpose_py.evaluate.load_coco` fills it in for pycocotools).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

from ..errors import DatasetError
from ..skeleton import COCO_17_NAMES

__all__ = ["EVAL_FIELDS", "RESULTS_CATEGORY", "read_annotations", "check_annotations"]

#: What pycocotools' keypoint evaluation reads from each ground-truth person (OKS scale, ignore flag, box), besides
#: ``iscrowd``, which reads as 0 when missing.
EVAL_FIELDS = ("keypoints", "num_keypoints", "area", "bbox")
#: The category of every COCO keypoint result (:func:`openpose_py.results.coco_results`).
RESULTS_CATEGORY = 1

_VALUES = 3 * len(COCO_17_NAMES)


def read_annotations(path: str | Path, *, evaluation: bool = False) -> tuple[dict[str, Any], int]:
    """Load and check a COCO person-keypoint annotation file (:func:`check_annotations`).

    Returns:
        (the parsed JSON, the id of its 17-keypoint person category).

    Raises:
        DatasetError: missing, unreadable, not JSON, or refused by :func:`check_annotations`.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"no such annotation file: {path}")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path} is not a readable JSON annotation file ({exc})") from exc
    return data, check_annotations(data, path, evaluation=evaluation)


def check_annotations(data: Any, source: str | Path, *, evaluation: bool = False) -> int:
    """Check parsed COCO annotations (the module's rules); ``source`` names them in messages.

    Returns:
        the id of the 17-keypoint person category.

    Raises:
        DatasetError: not COCO-shaped, without a 17-keypoint person category, or with a malformed record: the first
            one, named, in one line.
    """
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list)
                                             for k in ("images", "annotations", "categories")):
        raise DatasetError(f"{source} is not a COCO annotation file (it needs lists 'images', 'annotations', "
                           "'categories')")
    category_ids = _check_table(data["categories"], "categories", "category", source)
    person = next((c["id"] for c in data["categories"]
                   if isinstance(c.get("keypoints"), list) and len(c["keypoints"]) == len(COCO_17_NAMES)), None)
    if person is None:
        raise DatasetError(f"{source} has no person category with the 17 COCO keypoints")
    if evaluation and person != RESULTS_CATEGORY:
        raise DatasetError(f"{source}: the person category has id {person}, but COCO keypoint results name category "
                           f"{RESULTS_CATEGORY}; renumber it (and its annotations) to {RESULTS_CATEGORY}")
    image_ids = _check_table(data["images"], "images", "image", source, _image_problem)
    seen: set[int] = set()
    for i, ann in enumerate(data["annotations"]):
        problem = _annotation_problem(ann, i, image_ids, category_ids, person, seen, evaluation)
        if problem:
            raise DatasetError(f"{source}: {problem}")
    return person


def _show(value: Any) -> str:
    """A value as the file has it, cut short."""
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    # math.isfinite, not numpy's: this runs for every keypoint value of the file (13 M on COCO train2017)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _field(record: dict[str, Any], key: str, ok: bool, what: str) -> str | None:
    """'has no KEY' or 'KEY must be WHAT, got VALUE' unless ``ok``."""
    if ok:
        return None
    return f"has no {key}" if key not in record else f"{key} must be {what}, got {_show(record[key])}"


def _check_table(records: list[Any], table: str, kind: str, source: str | Path,
                 problem: Callable[[dict[str, Any]], str | None] = lambda record: None) -> set[int]:
    """The ids of a table of records (``images``, ``categories``): each an object with an integer id listed once, and
    nothing else ``problem`` finds wrong with it."""
    ids: set[int] = set()
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise DatasetError(f"{source}: {table}[{i}] must be an object, got {_show(record)}")
        found = _field(record, "id", _is_int(record.get("id")), "an integer") or problem(record)
        if found:
            raise DatasetError(f"{source}: {table}[{i}] {found}")
        if record["id"] in ids:
            raise DatasetError(f"{source}: {kind} id {record['id']} is listed twice in '{table}'")
        ids.add(record["id"])
    return ids


def _image_problem(img: dict[str, Any]) -> str | None:
    name, height, width = img.get("file_name"), img.get("height"), img.get("width")
    return (_field(img, "file_name", isinstance(name, str) and name != "", "a non-empty string")
            or _field(img, "height", _is_int(height) and height > 0, "a positive integer")
            or _field(img, "width", _is_int(width) and width > 0, "a positive integer"))


def _annotation_problem(ann: Any, i: int, image_ids: set[int], category_ids: set[int], person: int, seen: set[int],
                        evaluation: bool) -> str | None:
    """What is wrong with entry ``i`` of 'annotations', if anything; ``seen``: the annotation ids before it."""
    if not isinstance(ann, dict):
        return f"annotation entry {i} must be an object, got {_show(ann)}"
    if "id" not in ann and evaluation:
        return f"annotation entry {i} has no integer id; pycocotools tells annotations apart by id"
    if "id" in ann:
        if not _is_int(ann["id"]):
            return f"annotation entry {i} id must be an integer, got {_show(ann['id'])}"
        if ann["id"] in seen:
            return f"annotation entry {i} reuses id {ann['id']}; pycocotools tells annotations apart by id"
        seen.add(ann["id"])
    name = f"annotation {ann.get('id', '?')} (entry {i} of 'annotations')"
    problem = (_field(ann, "image_id", _is_int(ann.get("image_id")), "an integer")
               or _field(ann, "category_id", _is_int(ann.get("category_id")), "an integer"))
    if problem:
        return f"{name} {problem}"
    if ann["image_id"] not in image_ids:
        return f"{name} is of image {ann['image_id']}, which 'images' does not list"
    if ann["category_id"] not in category_ids:
        return f"{name} has category {ann['category_id']}, which 'categories' does not list"
    crowd = ann.get("iscrowd", 0)  # bools too: posetrack18 as mmpose ships it has false
    problem = _field(ann, "iscrowd", isinstance(crowd, int) and crowd in (0, 1), "0 or 1")
    if problem:
        return f"{name} {problem}"
    if ann["category_id"] != person:
        return None
    problem = _person_problem(ann)
    if problem:
        return f"{name}: {problem}"
    missing = [k for k in EVAL_FIELDS if k not in ann] if evaluation else []
    if missing:
        return (f"annotation {ann.get('id', '?')} has no {', '.join(missing)}, which COCO keypoint evaluation "
                "needs")
    return None


def _person_problem(ann: dict[str, Any]) -> str | None:
    """What is wrong with one person annotation's fields, if any (absent fields are the caller's business)."""
    if "keypoints" in ann:
        kps = ann["keypoints"]
        if not isinstance(kps, list):
            return f"keypoints is {_show(kps)}, not a list of {_VALUES} numbers"
        if len(kps) != _VALUES:
            return (f"has {len(kps) // 3} keypoints ({len(kps)} values); COCO person keypoints have "
                    f"{len(COCO_17_NAMES)} (x, y, visibility each)")
        if not all(_is_number(v) for v in kps):
            return "keypoints holds a value that is not a finite number"
        bad = next((j for j in range(2, _VALUES, 3) if kps[j] not in (0, 1, 2)), None)
        if bad is not None:
            return (f"keypoint {bad // 3} ({COCO_17_NAMES[bad // 3]}) has visibility {_show(kps[bad])}, not 0 "
                    "(unlabelled), 1 (labelled, hidden) or 2 (visible)")
    if "bbox" in ann:
        box = ann["bbox"]
        if not (isinstance(box, list) and len(box) == 4 and all(_is_number(v) for v in box)) or min(box[2:]) < 0:
            return f"bbox is {_show(box)}, not [x, y, width, height] with width and height >= 0"
    if "area" in ann and not (_is_number(ann["area"]) and ann["area"] >= 0):
        return f"area is {_show(ann['area'])}, not a number >= 0"
    if "num_keypoints" in ann:
        if not (_is_int(ann["num_keypoints"]) and ann["num_keypoints"] >= 0):
            return f"num_keypoints is {_show(ann['num_keypoints'])}, not a count"
        # both training (which people have enough keypoints) and pycocotools (which people count) trust it
        labelled = sum(1 for v in ann.get("keypoints", [])[2::3] if v > 0)
        if "keypoints" in ann and ann["num_keypoints"] != labelled:
            return f"num_keypoints is {ann['num_keypoints']}, but {labelled} keypoints are labelled (visibility 1 or 2)"
    return None
