"""``openpose-py eval``: COCO keypoint AP of a model on a COCO-format annotated image set."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ..runs.ledger import count
from .options import EstimatorOptions, build_estimator, check_weights_name, estimator_options, parts_options
from .overwrites import refuse_overwriting_inputs

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
@parts_options
@click.option("--person-score", type=click.Choice(PERSON_SCORES), default=DEFAULT_PERSON_SCORE, show_default=True,
              help="Score given to each person for the AP ranking: sum of part and limb scores, their mean, the "
                   "mean keypoint score, or the sum times (parts - 1).")
@click.option("--results-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the detections as a COCO results list.")
@click.option("--max-images", type=click.IntRange(min=1), default=None,
              help="Evaluate only the first N images (by id).")
@click.option("--compare-to", metavar="WEIGHTS", default=None, callback=check_weights_name,
              help="Also compare this model's responses at the annotated people (its heatmaps at labelled keypoints, "
                   "its PAFs along labelled limbs) with another network's: a registered name or a weights file, such "
                   "as the network a fine-tuned one started from. Finer than AP on a few photos.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one machine-readable JSON line (stats and settings) instead of the table.")
def eval_cmd(images: Path, annotations: Path, estimator_options: EstimatorOptions, person_score: str,
             results_json: Path | None, max_images: int | None, compare_to: str | None, as_json: bool) -> None:
    """COCO keypoint AP/AR (pycocotools, OKS) of a model on an annotated image set.

    Prints what was measured (model, backend, height, scales, images and labelled people), then pycocotools'
    ten-number keypoint table (AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl).
    Under torchrun each process runs every N-th image and rank 0 scores all the detections together: the same AP
    as one process (--compare-to then runs on rank 0 alone).

    With --compare-to, both networks' responses at every labelled keypoint and limb follow: their mean change, the
    share that fell, and the limbs that stopped or started passing the decoder's PAF test. Judging fine-tuned
    weights on a few held-out photos, this tells a systematic loss (most responses fall) from a scattered one.

    With --hand, --face or --feet, the parts are scored too where the annotations label them (COCO-WholeBody:
    lefthand_kpts, righthand_kpts, face_kpts, foot_kpts and their boxes): hands PCK@0.2 of the hand box, face NME
    (normalised by the square root of the face box's area), feet PCK@0.1 of the person box (heels and big toes).

    \b
    Examples:
      openpose-py eval --images val2017/ --annotations person_keypoints_val2017.json
      openpose-py eval --images val2017/ --annotations ann.json --backend openvino-int8 --threads 2 --json
      torchrun --nproc-per-node 4 --no-python openpose-py eval --images val2017/ --annotations ann.json
      openpose-py eval --images coco/ --annotations coco_wholebody_val.json --hand --face --feet
      openpose-py eval --images held_out/ --annotations held_out.json --backend torch \\
          --weights runs/ft/weights.safetensors --compare-to lightweight
    """
    from ..evaluate import evaluate
    from ..evaluate_parts import parts_table
    from ..runs import RunContext, process_group
    from .collection import rank_estimator_options

    refuse_overwriting_inputs([annotations], [("--results-json", results_json)])
    ctx = RunContext.from_env()
    opts = rank_estimator_options(estimator_options, ctx)
    with process_group(ctx, opts.device):
        estimator = build_estimator(opts, person_score=person_score)
        parts = tuple(name for name, on in (("hands", opts.hand), ("face", opts.face), ("feet", opts.feet)) if on)
        result = evaluate(estimator, images, annotations, results_path=results_json,
                          progress=not as_json and sys.stderr.isatty(), max_images=max_images, context=ctx,
                          parts=parts)
    if result is None:  # a process other than rank 0 of a torchrun launch: rank 0 reports for all
        return
    compared = None
    if compare_to is not None:
        compared = _compare(estimator, opts, compare_to, images, annotations, person_score, max_images)
    if as_json:
        opts = estimator_options
        record = {
            **result.as_dict(), "model": str(opts.weights or opts.model), "backend": estimator.backend,
            "height": estimator.preprocess_spec.height, "scales": list(opts.scales), "flip": opts.flip,
            "decoder": opts.decoder, "person_score": person_score, "annotations": str(annotations),
        }
        if compared is not None:
            record["responses"] = compared
        click.echo(json.dumps(record))
    else:
        click.echo(_measured(estimator, estimator_options, person_score, result))
        click.echo(result.summary.rstrip("\n"))
        if result.parts is not None:
            click.echo(parts_table(result.parts))
        if compared is not None:
            click.echo(_response_table(compared))


def _measured(estimator: Any, opts: EstimatorOptions, person_score: str, result: Any) -> str:
    """The line above the table: what was measured, on what."""
    scales = ", ".join(f"{s:g}" for s in opts.scales)
    return (f"{opts.weights or opts.model} on {estimator.backend}, height {estimator.preprocess_spec.height}, "
            f"scales {scales}{' + flip' if opts.flip else ''}, decoder {opts.decoder}, person score {person_score}: "
            f"{count(result.num_images, 'image')}, {count(result.num_people, 'person')} labelled")


def _compare(estimator: Any, opts: EstimatorOptions, compare_to: str, images: Path, annotations: Path,
             person_score: str, max_images: int | None) -> dict[str, Any]:
    """Both networks' responses at the annotated people, and how this one's differ: a JSON-ready record."""
    from ..response import responses

    is_file = Path(compare_to).is_file()
    other_opts = replace(opts, weights=Path(compare_to)) if is_file else replace(opts, weights=None, model=compare_to)
    other = build_estimator(other_opts, person_score=person_score)
    if other.skeleton.name != estimator.skeleton.name:
        raise click.UsageError(f"--compare-to {compare_to}: its skeleton ({other.skeleton.name}) is not the model's "
                               f"({estimator.skeleton.name}), so their keypoints and limbs do not correspond")
    ours = responses(estimator, images, annotations, max_images=max_images)
    theirs = responses(other, images, annotations, max_images=max_images)
    return {"compare_to": compare_to, "num_keypoints": len(ours.keypoints), "num_limbs": len(ours.limbs),
            "keypoint_mean": [round(float(r.keypoints.mean()), 4) if len(r.keypoints) else None
                              for r in (theirs, ours)],
            "limb_mean": [round(float(r.limbs.mean()), 4) if len(r.limbs) else None for r in (theirs, ours)],
            "limbs_passing": [int(theirs.limb_passes.sum()), int(ours.limb_passes.sum())],
            **ours.change(theirs).as_dict()}


def _response_table(r: dict[str, Any]) -> str:
    """The comparison as a few plain lines under pycocotools' table."""
    def cell(before: float | None, after: float | None) -> str:
        return "-" if before is None or after is None else f"{before:.3f} -> {after:.3f}"

    return "\n".join((
        f"Responses at {r['num_keypoints']} labelled keypoints and {r['num_limbs']} labelled limbs, "
        f"{r['compare_to']} -> this model:",
        f" heatmap at keypoints  {cell(*r['keypoint_mean'])}  (mean change {r['keypoints']:+.4f}, "
        f"{r['keypoints_fell']:.0%} fell)",
        f" PAF along limbs       {cell(*r['limb_mean'])}  (mean change {r['limbs']:+.4f}, {r['limbs_fell']:.0%} fell)",
        f" limbs passing the PAF test  {r['limbs_passing'][0]} -> {r['limbs_passing'][1]}  "
        f"({r['limbs_lost']} lost, {r['limbs_gained']} gained)"))
