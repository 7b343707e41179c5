"""``openpose-py eval``: COCO keypoint AP of a model on a COCO-format annotated image set."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .options import EstimatorOptions, build_estimator, estimator_options

__all__ = ["eval_cmd", "backend_option", "PERSON_SCORES", "BACKEND_NAMES", "DEFAULT_PERSON_SCORE"]

# Copies of decode.decoder.PersonScore and backends.BACKENDS, so that --help needs no torch import; a test keeps
# them equal.
PERSON_SCORES = ("sum", "mean", "part_mean", "sum_x_parts")
BACKEND_NAMES = ("torch", "onnxruntime", "openvino", "openvino-int8")
#: The person score eval reports to COCO: the one that measured the best AP (docs/benchmarks.md, "Person score").
DEFAULT_PERSON_SCORE = "sum"


def backend_option(func):
    """``--backend``: which runtime executes the network (see :mod:`openpose_py.backends`)."""
    return click.option("--backend", type=click.Choice(BACKEND_NAMES), default="torch", show_default=True,
                        help="Network runtime: torch, ONNX Runtime or OpenVINO on an ONNX export (float32), or "
                             "OpenVINO on the model's own INT8 IR (hpe-0001). Non-torch backends run on the CPU.")(func)


@click.command("eval")
@click.option("--images", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder holding the images named in the annotations.")
@click.option("--annotations", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="COCO-format person keypoint annotations (e.g. person_keypoints_val2017.json).")
@estimator_options
@backend_option
@click.option("--person-score", type=click.Choice(PERSON_SCORES), default=DEFAULT_PERSON_SCORE, show_default=True,
              help="Score given to each person for the AP ranking: sum of part and limb scores, their mean, the "
                   "mean keypoint score, or the sum times (parts - 1).")
@click.option("--results-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the detections as a COCO results list.")
@click.option("--max-images", type=click.IntRange(min=1), default=None,
              help="Evaluate only the first N images (by id).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one machine-readable JSON line (stats and settings) instead of the table.")
def eval_cmd(images: Path, annotations: Path, estimator_options: EstimatorOptions, backend: str,
             person_score: str, results_json: Path | None, max_images: int | None, as_json: bool) -> None:
    """COCO keypoint AP/AR (pycocotools, OKS) of a model on an annotated image set.

    Prints pycocotools' ten-number keypoint table (AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl).

    \b
    Examples:
      openpose-py eval --images val2017/ --annotations person_keypoints_val2017.json
      openpose-py eval --images val2017/ --annotations ann.json --backend openvino-int8 --threads 2 --json
    """
    from ..backends import with_backend
    from ..evaluate import evaluate

    loaded = build_estimator(estimator_options)
    try:
        estimator = with_backend(loaded, backend, threads=estimator_options.threads, weights=estimator_options.weights,
                                 decoder=loaded.decoder.replace(person_score=person_score))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    result = evaluate(estimator, images, annotations, results_path=results_json,
                      progress=not as_json and sys.stderr.isatty(), max_images=max_images)
    if as_json:
        opts = estimator_options
        record = {
            **result.as_dict(), "model": str(opts.weights or opts.model), "backend": backend,
            "height": estimator.preprocess_spec.height, "scales": list(opts.scales), "flip": opts.flip,
            "decoder": opts.decoder, "person_score": person_score, "annotations": str(annotations),
        }
        click.echo(json.dumps(record))
    else:
        click.echo(result.summary.rstrip("\n"))
