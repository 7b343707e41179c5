"""COCO keypoint evaluation: pycocotools wiring, the GT-as-results sanity check, and user errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from openpose_py import COCO_18, MPI_15, Keypoint, Person
from openpose_py.errors import DatasetError, OutputError
from openpose_py.evaluate import STAT_NAMES, evaluate, keypoint_stats, load_coco

from .conftest import DEV_SET

ANNOTATIONS = DEV_SET / "person_keypoints.json"
IMAGES = DEV_SET / "images"

pytestmark = pytest.mark.shared("data/coco-val2017-dev/person_keypoints.json")


def _gt_people(coco_gt, image_id: int, shift: float = 0.0) -> list[Person]:
    """The annotated people of one image as COCO_18 people (Neck missing), optionally shifted by ``shift`` px."""
    slots = COCO_18.coco17
    people = []
    for ann in coco_gt.loadAnns(coco_gt.getAnnIds(imgIds=[image_id])):
        if ann["num_keypoints"] == 0:
            continue
        kps: list[Keypoint | None] = [None] * COCO_18.num_keypoints
        for slot, (x, y, v) in enumerate(np.asarray(ann["keypoints"], dtype=float).reshape(17, 3)):
            if v > 0:
                idx = slots[slot]
                kps[idx] = Keypoint(COCO_18.keypoints[idx], x + shift, y + shift, 1.0)
        people.append(Person(tuple(kps), 1.0, COCO_18))
    return people


class _Oracle:
    """A fake estimator answering each image with its annotations (optionally displaced)."""

    def __init__(self, coco_gt, shift: float = 0.0):
        self.coco_gt = coco_gt
        self.shift = shift
        self.order = iter(sorted(coco_gt.getImgIds()))

    def __call__(self, image: np.ndarray) -> list[Person]:
        image_id = next(self.order)  # evaluate() visits images sorted by id
        info = self.coco_gt.loadImgs([image_id])[0]
        assert image.shape[:2] == (info["height"], info["width"])
        return _gt_people(self.coco_gt, image_id, self.shift)


@pytest.fixture(scope="module")
def coco_gt():
    return load_coco(ANNOTATIONS)


def test_ground_truth_as_results_scores_one(coco_gt):
    results = [
        {"image_id": a["image_id"], "category_id": 1, "keypoints": a["keypoints"], "score": 1.0}
        for a in coco_gt.dataset["annotations"] if a["num_keypoints"] > 0
    ]
    stats, summary = keypoint_stats(coco_gt, results)
    assert stats["AP"] == pytest.approx(1.0)
    assert stats["AR"] == pytest.approx(1.0)
    assert all(stats[n] == pytest.approx(1.0) or stats[n] == -1.0 for n in STAT_NAMES)
    assert summary.count("\n") == 10 and "Average Precision" in summary


def test_evaluate_with_annotations_as_people_scores_one(coco_gt, tmp_path):
    out = tmp_path / "sub" / "results.json"
    result = evaluate(_Oracle(coco_gt), IMAGES, ANNOTATIONS, results_path=out)
    assert result.num_images == len(coco_gt.getImgIds())
    assert result.ap == pytest.approx(1.0)
    assert len(result.results) == sum(a["num_keypoints"] > 0 for a in coco_gt.dataset["annotations"])
    assert json.loads(out.read_text()) == list(result.results)
    assert list(out.parent.iterdir()) == [out]  # no temporary left behind
    assert set(result.as_dict()) == {*STAT_NAMES, "num_images", "num_people", "num_detections"}


def test_displaced_and_missing_people_lower_the_scores(coco_gt):
    shifted = evaluate(_Oracle(coco_gt, shift=6.0), IMAGES, ANNOTATIONS)
    assert 0.0 < shifted.ap < 0.9 and shifted.stats["AP50"] == pytest.approx(1.0)  # 6 px: found, imprecise
    nothing = evaluate(lambda image: [], IMAGES, ANNOTATIONS)
    assert nothing.ap == 0.0 and nothing.stats["AR"] == 0.0 and nothing.results == ()


def test_max_images_limits_the_set(coco_gt):
    result = evaluate(_Oracle(coco_gt), IMAGES, ANNOTATIONS, max_images=3)
    assert result.num_images == 3
    assert {r["image_id"] for r in result.results} <= set(sorted(coco_gt.getImgIds())[:3])


def test_user_errors_are_dataset_errors(coco_gt, tmp_path):
    with pytest.raises(DatasetError, match="no such annotation file"):
        evaluate(lambda image: [], IMAGES, tmp_path / "missing.json")
    with pytest.raises(DatasetError, match="no such image folder"):
        evaluate(lambda image: [], tmp_path / "nope", ANNOTATIONS)
    bad = tmp_path / "bad.json"
    bad.write_text("{\"images\": []")
    with pytest.raises(DatasetError, match="not a readable JSON"):
        load_coco(bad)
    bad.write_text("[]")
    with pytest.raises(DatasetError, match="not a COCO annotation file"):
        load_coco(bad)
    # a keypoint set without COCO's areas (posetrack18 as mmpose ships it): said before any image is run
    no_area = json.loads(ANNOTATIONS.read_text())
    for ann in no_area["annotations"]:
        ann.pop("area")
    bad.write_text(json.dumps(no_area))
    with pytest.raises(DatasetError, match=r"annotation \d+ has no area, which COCO keypoint evaluation needs"):
        evaluate(lambda image: pytest.fail("ran before checking the annotations"), IMAGES, bad)
    partial = tmp_path / "images"
    partial.mkdir()
    first = coco_gt.loadImgs(sorted(coco_gt.getImgIds())[:1])[0]["file_name"]
    shutil.copy(IMAGES / first, partial / first)
    with pytest.raises(DatasetError, match="no such image file"):
        evaluate(lambda image: [], partial, ANNOTATIONS)
    mpi = Person((None,) * MPI_15.num_keypoints, 1.0, MPI_15)
    with pytest.raises(DatasetError, match="COCO-17"):
        evaluate(lambda image: [mpi], IMAGES, ANNOTATIONS, max_images=1)
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="cannot write"):
        evaluate(lambda image: pytest.fail("ran before checking the output"), IMAGES, ANNOTATIONS,
                 results_path=blocker / "results.json")
    with pytest.raises(DatasetError, match="absent from the annotations"):
        keypoint_stats(coco_gt, [{"image_id": -5, "category_id": 1, "keypoints": [0] * 51, "score": 1.0}])


def _first_ann(data):
    return data["annotations"][0]


@pytest.mark.parametrize("corrupt, message", [
    (lambda d: _first_ann(d).update(keypoints=[0] * 30),
     "annotation 426554 (entry 0 of 'annotations'): has 10 keypoints (30 values); COCO person keypoints have 17 "
     "(x, y, visibility each)"),
    (lambda d: _first_ann(d).update(keypoints=None),
     "annotation 426554 (entry 0 of 'annotations'): keypoints is null, not a list of 51 numbers"),
    (lambda d: _first_ann(d)["keypoints"].__setitem__(4, "7"),
     "annotation 426554 (entry 0 of 'annotations'): keypoints holds a value that is not a finite number"),
    (lambda d: _first_ann(d).update(bbox="abc"),
     "annotation 426554 (entry 0 of 'annotations'): bbox is \"abc\", not [x, y, width, height] with width and height "
     ">= 0"),
    (lambda d: _first_ann(d).update(area=-3),
     "annotation 426554 (entry 0 of 'annotations'): area is -3, not a number >= 0"),
    (lambda d: _first_ann(d).update(image_id=999),
     "annotation 426554 (entry 0 of 'annotations') is of image 999, which 'images' does not list"),
    (lambda d: _first_ann(d).update(category_id=2),
     "annotation 426554 (entry 0 of 'annotations') has category 2, which 'categories' does not list"),
    (lambda d: d["images"].append(dict(d["images"][0])),
     "image id 349860 is listed twice in 'images'"),
    (lambda d: d["annotations"][1].update(id=426554),
     "annotation entry 1 reuses id 426554; pycocotools tells annotations apart by id"),
    (lambda d: [a.update(category_id=2) for a in d["annotations"]] + [c.update(id=2) for c in d["categories"]],
     "the person category has id 2, but COCO keypoint results name category 1; renumber it (and its annotations) "
     "to 1"),
    # the hardening sweep: tracebacks (after writing the results, for iscrowd) or silently accepted
    (lambda d: d["images"][0].update(file_name=5), "images[0] file_name must be a non-empty string, got 5"),
    (lambda d: [d["images"][0].update(id="349860")] + [a.update(image_id="349860") for a in d["annotations"]
                                                        if a["image_id"] == 349860],
     "images[0] id must be an integer, got \"349860\""),
    (lambda d: d["images"][0].update(id=349860.0), "images[0] id must be an integer, got 349860.0"),
    (lambda d: d["images"][0].update(height=0, width=0), "images[0] height must be a positive integer, got 0"),
    (lambda d: _first_ann(d).update(iscrowd="no"),
     "annotation 426554 (entry 0 of 'annotations') iscrowd must be 0 or 1, got \"no\""),
    (lambda d: _first_ann(d)["keypoints"].__setitem__(2, 9),
     "annotation 426554 (entry 0 of 'annotations'): keypoint 0 (nose) has visibility 9, not 0 (unlabelled), "
     "1 (labelled, hidden) or 2 (visible)"),
])
def test_malformed_annotations_are_refused_before_any_image(tmp_path, corrupt, message):
    """Failure 5: bad records gave a traceback after every image had run, or silently another AP (0.527 -> 0.337),
    or -1.0 everywhere with exit 0."""
    data = json.loads(ANNOTATIONS.read_text())
    corrupt(data)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(DatasetError) as caught:
        evaluate(lambda image: pytest.fail("an image ran before the annotations were checked"), IMAGES, bad)
    assert str(caught.value) == f"{bad}: {message}"


def test_a_missing_iscrowd_reads_as_not_a_crowd(coco_gt, tmp_path):
    """pycocotools needs iscrowd (it raised KeyError after the results were written); a file without it is scored as
    one whose people are not crowds, as training reads it."""
    data = json.loads(ANNOTATIONS.read_text())
    for ann in data["annotations"]:
        ann.pop("iscrowd")
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(data))
    result = evaluate(_Oracle(coco_gt), IMAGES, bare, max_images=3)
    assert result.ap == evaluate(_Oracle(coco_gt), IMAGES, ANNOTATIONS, max_images=3).ap == pytest.approx(1.0)


def test_a_failed_scoring_keeps_the_finished_detections(coco_gt, tmp_path, monkeypatch):
    """The annotations are checked before any image, so scoring rarely fails; when it does (pycocotools on a file
    the checks let through), the detections of what may have been hours of images are kept, whole."""
    import openpose_py.evaluate as module

    def fail(*args, **kwargs):
        raise DatasetError("scoring failed")

    monkeypatch.setattr(module, "keypoint_stats", fail)
    out = tmp_path / "results.json"
    with pytest.raises(DatasetError, match="scoring failed"):
        evaluate(_Oracle(coco_gt), IMAGES, ANNOTATIONS, results_path=out, max_images=2)
    assert len(json.loads(out.read_text())) > 0 and [p.name for p in tmp_path.iterdir()] == ["results.json"]
