"""COCO keypoint evaluation (OKS-based AP/AR) through pycocotools.

:func:`evaluate` runs any pose estimator (anything that maps a BGR image to ``list[Person]`` in image pixels, such as
:class:`~openpose_py.inference.PoseEstimator`) over every image of a COCO-format keypoint annotation file and returns
the ten standard keypoint numbers. :func:`keypoint_stats` scores a ready list of COCO result entries (the
ground-truth-as-results sanity check goes through it).

Each person's COCO ``score`` is ``Person.score`` as the decoder produced it; the decoder's ``person_score`` option
chooses its definition (see docs/benchmarks.md for the measured comparison).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .atomic import ensure_writable_dir, write_bytes_atomic
from .errors import DatasetError, ImageReadError
from .evaluate_parts import PartsScore, add_scores, score_parts
from .images import load_image
from .results import Person, coco_results
from .runs import RunContext, gather_to_root

__all__ = ["STAT_NAMES", "EvalResult", "load_coco", "keypoint_stats", "evaluate", "labelled_people"]

log = logging.getLogger(__name__)

#: The ten numbers of pycocotools' keypoint summary, in its order (maxDets 20, OKS thresholds 0.50:0.95).
STAT_NAMES: tuple[str, ...] = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")


@dataclass(frozen=True)
class EvalResult:
    """The outcome of one evaluation.

    Attributes:
        stats: the ten :data:`STAT_NAMES` -> value; -1.0 where pycocotools has nothing to average (no ground truth
            in that area range), as pycocotools reports it.
        num_images: images evaluated.
        results: the COCO result entries that were scored (COCO-17 order, image pixels).
        summary: pycocotools' own ten-line table, as it prints it.
    """

    stats: dict[str, float]
    num_images: int
    results: tuple[dict[str, Any], ...]
    summary: str
    num_people: int = 0  # labelled people (not crowds, with keypoints) in the evaluated images
    parts: PartsScore | None = None  # hands, face, feet against COCO-WholeBody labels (evaluate's ``parts``)

    @property
    def ap(self) -> float:
        """The headline number: AP over OKS 0.50:0.95."""
        return self.stats["AP"]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready record: the ten stats, the number of images and of scored detections."""
        record = {**self.stats, "num_images": self.num_images, "num_people": self.num_people,
                  "num_detections": len(self.results)}
        return record if self.parts is None else {**record, "parts": self.parts.as_dict()}


#: The category of every COCO keypoint result (:func:`openpose_py.results.coco_results`).
_PERSON = 1


def load_coco(annotations_path: str | Path):
    """Load a COCO-format keypoint annotation file as a ``pycocotools.coco.COCO`` index.

    Raises:
        DatasetError: the file is missing, not JSON, not COCO-shaped, has no 17-keypoint person category or a
            malformed record (:mod:`openpose_py.data.coco_checks`, the checks training makes too), or fails what
            evaluation adds there: its person category is not category 1 (the one COCO results name), or an
            annotation lacks an ``id`` or, for a person, a field the evaluation reads (``keypoints``,
            ``num_keypoints``, ``area``, ``bbox``). A missing ``iscrowd`` reads as 0 (not a crowd), as in training.
    """
    from pycocotools.coco import COCO

    from .data.coco_checks import read_annotations

    dataset, _ = read_annotations(annotations_path, evaluation=True)
    for ann in dataset["annotations"]:
        ann.setdefault("iscrowd", 0)  # pycocotools reads it from every annotation it scores
    coco = COCO()
    coco.dataset = dataset
    # pycocotools reports progress on stdout; library code stays silent
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def keypoint_stats(coco_gt, results: Sequence[dict[str, Any]],
                   image_ids: Iterable[int] | None = None) -> tuple[dict[str, float], str]:
    """Score COCO keypoint results against ground truth with pycocotools' OKS evaluation.

    Args:
        coco_gt: a ``COCO`` index (see :func:`load_coco`).
        results: entries ``{"image_id", "category_id": 1, "keypoints": [x, y, v] * 17, "score"}``.
        image_ids: the images the results cover; all images of ``coco_gt`` if None. Images without results count
            as images where nothing was found.

    Returns:
        (stats dict keyed by :data:`STAT_NAMES`, pycocotools' printed summary table).
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    ids = sorted(coco_gt.getImgIds()) if image_ids is None else sorted(int(i) for i in image_ids)
    known = set(coco_gt.getImgIds())
    stray = {int(r["image_id"]) for r in results} - known
    if stray:
        raise DatasetError(f"results name {len(stray)} image id(s) absent from the annotations, e.g. {min(stray)}")
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        if results:
            coco_dt = coco_gt.loadRes([dict(r) for r in results])
        else:
            # loadRes cannot take an empty list; an empty index scores every ground-truth person as missed
            coco_dt = COCO()
            coco_dt.dataset = {"images": coco_gt.dataset["images"], "categories": coco_gt.dataset["categories"],
                               "annotations": []}
            coco_dt.createIndex()
        evaluator = COCOeval(coco_gt, coco_dt, iouType="keypoints")
        evaluator.params.imgIds = ids
        evaluator.params.catIds = [_PERSON]  # people only, whatever else the file annotates
        evaluator.evaluate()
        evaluator.accumulate()
    log.debug("pycocotools: %s", sink.getvalue().strip())
    table = io.StringIO()
    with contextlib.redirect_stdout(table):
        evaluator.summarize()
    stats = {name: float(v) for name, v in zip(STAT_NAMES, np.asarray(evaluator.stats, dtype=np.float64))}
    return stats, table.getvalue()


def evaluate(
    estimator: Callable[[np.ndarray], list[Person]],
    images_dir: str | Path,
    annotations_path: str | Path,
    *,
    results_path: str | Path | None = None,
    progress: bool = False,
    max_images: int | None = None,
    context: "RunContext | None" = None,
    parts: Sequence[str] = (),
) -> EvalResult | None:
    """COCO keypoint AP of ``estimator`` on a COCO-format set.

    Every image listed in the annotation file is evaluated (sorted by id; the first ``max_images`` if given), as
    the COCO benchmark does, including images without annotated people.

    Args:
        estimator: maps an (H, W, 3) uint8 BGR image to people in its pixels (a ``PoseEstimator``).
        images_dir: folder holding the files named by the annotations' ``file_name``.
        annotations_path: COCO keypoint annotation JSON.
        results_path: if given, the COCO results list is written there (atomically; checked writable first).
        progress: show a progress bar on stderr.
        max_images: evaluate only the first N images (quick checks during training).
        context: in a run of several processes (torchrun, inside :func:`openpose_py.runs.process_group`), this
            process's place: it runs its share of the images, rank 0 gathers every share's detections and scores
            them all, in the single-process order, so the AP is the single-process AP. Other ranks return None.
        parts: also score these parts (``"hands"``, ``"face"``, ``"feet"``) against COCO-WholeBody labels (``.parts``).

    Raises:
        DatasetError: missing folder, unreadable annotations, an image that is missing or unreadable, or people
            whose skeleton has no COCO-17 keypoints.
        OutputError: ``results_path`` cannot be written.
    """
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise DatasetError(f"no such image folder: {images_dir}")
    coco_gt = load_coco(annotations_path)
    ctx = context or RunContext()
    if results_path is not None and ctx.is_root:
        results_path = Path(results_path)
        ensure_writable_dir(results_path.parent)  # fail before any work
    ids = sorted(coco_gt.getImgIds())
    if max_images is not None:
        ids = ids[:max(0, max_images)]
    if not ids:
        raise DatasetError(f"{annotations_path} lists no images")
    labelled = labelled_people(coco_gt, ids)
    if not labelled:
        raise DatasetError(f"{annotations_path}: no labelled person (an annotation with keypoints, not a crowd) in "
                           f"the {len(ids)} images evaluated, so there is no AP to measure")
    infos = coco_gt.loadImgs(ctx.shard(ids))
    rows: list[tuple[int, list[dict[str, Any]], PartsScore | None]] = []
    iterator: Iterable[dict[str, Any]] = infos
    if progress:
        from tqdm import tqdm

        iterator = tqdm(infos, desc="eval", unit="img")
    for info in iterator:
        path = images_dir / info["file_name"]
        try:
            image = load_image(path)
        except ImageReadError as exc:
            raise DatasetError(f"image {info['id']} of {annotations_path}: {exc}") from exc
        people = estimator(image)
        scored = score_parts(people, coco_gt.loadAnns(coco_gt.getAnnIds(imgIds=[info["id"]])), parts) if parts else None
        try:
            rows.append((info["id"], coco_results(people, info["id"]), scored))
        except ValueError as exc:
            raise DatasetError(f"cannot evaluate on COCO: {exc}") from exc
    shares = gather_to_root(rows, ctx)
    if shares is None:
        return None
    ordered = sorted((row for share in shares for row in share), key=lambda r: r[0])
    results = [entry for _, entries, _ in ordered for entry in entries]
    part_scores = add_scores(row[2] for row in ordered) if parts else None
    log.info("evaluated %d images, %d detections", len(ids), len(results))
    if results_path is not None:  # before scoring: the detections of a long run survive a scoring failure
        write_bytes_atomic(results_path, json.dumps(results).encode("ascii"))
    stats, summary = keypoint_stats(coco_gt, results, ids)
    return EvalResult(stats, len(ids), tuple(results), summary, labelled, part_scores)


def labelled_people(coco_gt, image_ids: Sequence[int]) -> int:
    """The people OKS scores in these images: annotations that are not crowds and have a labelled keypoint."""
    anns = coco_gt.loadAnns(coco_gt.getAnnIds(imgIds=list(image_ids)))
    return sum(1 for a in anns if a.get("num_keypoints", 0) > 0 and not a.get("iscrowd", 0))
