"""``openpose-py eval``: COCO keypoint AP of a model on a COCO-format annotated image set."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .options import EstimatorOptions, build_estimator, estimator_options

__all__ = ["eval_cmd", "PERSON_SCORES", "DEFAULT_PERSON_SCORE"]

# A copy of decode.decoder.PersonScore, so that --help needs no torch import; a test keeps them equal.
PERSON_SCORES = ("sum", "mean", "part_mean", "sum_x_parts")
#: The person score eval reports to COCO: the one that measured the best AP (docs/benchmarks.md, "Person score").
DEFAULT_PERSON_SCORE = "sum"


@click.command("eval")
@click.option("--images", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder holding the images named in the annotations.")
@click.option("--annotations", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="COCO-format person keypoint annotations (e.g. person_keypoints_val2017.json).")
@estimator_options
@click.option("--person-score", type=click.Choice(PERSON_SCORES), default=DEFAULT_PERSON_SCORE, show_default=True,
              help="Score given to each person for the AP ranking: sum of part and limb scores, their mean, the "
                   "mean keypoint score, or the sum times (parts - 1).")
@click.option("--results-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the detections as a COCO results list.")
@click.option("--max-images", type=click.IntRange(min=1), default=None,
              help="Evaluate only the first N images (by id).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one machine-readable JSON line (stats and settings) instead of the table.")
def eval_cmd(images: Path, annotations: Path, estimator_options: EstimatorOptions, person_score: str, results_json: Path | None, max_images: int | None, as_json: bool) -> None:
    """COCO keypoint AP/AR (pycocotools, OKS) of a model on an annotated image set.

    Prints pycocotools' ten-number keypoint table (AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl).
    Under torchrun each process runs every N-th image and rank 0 scores all the detections together: the same AP
    as one process.

    \b
    Examples:
      openpose-py eval --images val2017/ --annotations person_keypoints_val2017.json
      openpose-py eval --images val2017/ --annotations ann.json --backend openvino-int8 --threads 2 --json
      torchrun --nproc-per-node 4 --no-python openpose-py eval --images val2017/ --annotations ann.json
    """
    from ..evaluate import evaluate
    from ..runs import RunContext, process_group
    from .collection import rank_estimator_options

    ctx = RunContext.from_env()
    opts = rank_estimator_options(estimator_options, ctx)
    with process_group(ctx, opts.device):
        estimator = build_estimator(opts, person_score=person_score)
        result = evaluate(estimator, images, annotations, results_path=results_json,
                          progress=not as_json and sys.stderr.isatty(), max_images=max_images, context=ctx)
    if result is None:  # a process other than rank 0 of a torchrun launch: rank 0 reports for all
        return
    if as_json:
        opts = estimator_options
        record = {
            **result.as_dict(), "model": str(opts.weights or opts.model), "backend": estimator.backend,
            "height": estimator.preprocess_spec.height, "scales": list(opts.scales), "flip": opts.flip,
            "decoder": opts.decoder, "person_score": person_score, "annotations": str(annotations),
        }
        click.echo(json.dumps(record))
    else:
        click.echo(result.summary.rstrip("\n"))
