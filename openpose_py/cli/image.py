"""``openpose-py image``: poses on image files, folders and globs, written as OpenPose JSON, renders, COCO results.

Under ``torchrun`` each process takes its share of the images (see :mod:`openpose_py.runs`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import ImageReadError, OpenPoseError
from ..runs.ledger import count
from .collection import Progress, finish, list_files, rank_estimator_options, read_inputs, run_options, stopped
from .overwrites import InputFiles
from .options import (
    EstimatorOptions,
    RenderOptions,
    build_estimator,
    estimator_options,
    parts_options,
    keypoint_scale_option,
    max_map_pixels_option,
    quiet_video_backends,
    render_options,
)
from .options import keypoint_scale as to_keypoint_scale

if TYPE_CHECKING:
    from ..runs import FailureLog, RunContext
    from ..video import CocoSink, FrameSink

__all__ = ["image"]


@click.command("image")
@click.argument("paths", nargs=-1, metavar="PATH...")
@estimator_options
@parts_options
@click.option("--json-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write OpenPose JSON, one <stem>_keypoints.json per image.")
@click.option("--render-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write each image with its skeletons drawn, <stem>_rendered.png.")
@click.option("--coco-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write all detections as one COCO keypoint results list.")
@click.option("--save-maps", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Write a heatmap + PAF picture per image, <stem>_maps.jpg (runs the network a second time).")
@max_map_pixels_option
@click.option("--part-candidates", is_flag=True, help="Add every keypoint candidate to the JSON (needs --json-dir).")
@keypoint_scale_option
@render_options
@click.option("--strict", is_flag=True, help="Stop at the first unreadable image (it goes to --failures) instead of going on.")
@click.option("--verbose", "-v", is_flag=True, help="Print one line per image instead of a progress bar.")
@run_options
def image(paths: tuple[str, ...], estimator_options: EstimatorOptions, json_dir: Path | None,
          render_dir: Path | None, coco_json: Path | None, save_maps: Path | None, max_map_pixels: int,
          part_candidates: bool,
          keypoint_scale: str, render: RenderOptions, strict: bool, verbose: bool, inputs_from: Path | None,
          skip_existing: bool, failures_path: Path | None, summary_json: Path | None) -> None:
    """Estimate poses on images.

    PATH may be an image file, a folder (searched recursively for image files), a glob such as 'shots/*.jpg', or
    @LIST, a text file naming one such input per line. Without any output option, one line per image is printed.
    An unreadable image fails with a warning (and a line in --failures), the run goes on and ends with status 1.

    Under torchrun each process takes every N-th image (N processes) and writes its outputs itself:
    torchrun --nproc-per-node 4 --no-python openpose-py image photos/ --json-dir out/

    \b
    Examples:
      openpose-py image photo.jpg --render-dir out/
      openpose-py image dataset/ --json-dir json/ --coco-json results.json --number-people-max 5
    """
    from ..runs import FailureLog, Outputs, RunContext, pending
    from ..video import ensure_writable_dir, expand_image_paths

    if part_candidates and json_dir is None:
        raise click.UsageError("--part-candidates needs --json-dir")
    if skip_existing and coco_json is not None:
        raise click.UsageError("--coco-json lists only the images a run processes: leave out --skip-existing")
    try:
        items = expand_image_paths(read_inputs(paths, inputs_from))
    except ImageReadError as exc:
        raise click.BadParameter(str(exc), param_hint="'PATH...'") from None
    ctx = RunContext.from_env()
    positions = ctx.positions(len(items))
    quiet_video_backends()
    inputs = InputFiles([path for path, _ in items] + list_files(paths, inputs_from))
    inputs.refuse([("--coco-json", coco_json), ("--summary-json", summary_json), ("--failures", failures_path)])
    if summary_json is not None and ctx.is_root:  # written at the end: a place it cannot go is told now
        ensure_writable_dir(summary_json.parent)
    # sinks first: they prove their directories writable before a network is loaded or run
    sinks, coco, outputs = _sinks(json_dir, render_dir, coco_json, save_maps, keypoint_scale, part_candidates,
                                  render, ctx)
    # the per-image outputs once their names are known (the render's suffix is the sink's)
    inputs.refuse([("the output", folder / f"{name}{suffix}") for folder, suffix in outputs for _, name in items])
    failures = FailureLog(failures_path, ctx.rank)
    to_do = pending(positions, lambda i: Outputs(tuple(folder / f"{items[i][1]}{suffix}"
                                                       for folder, suffix in outputs)),
                    skip_existing, exists=Path.is_file)
    verbose = verbose or not sinks and save_maps is None
    opts = rank_estimator_options(replace(estimator_options, max_map_pixels=max_map_pixels), ctx)
    _run(opts, ctx, items, to_do, len(positions) - len(to_do), sinks, coco, coco_json, save_maps, failures, strict,
         verbose, summary_json)


def _sinks(json_dir: Path | None, render_dir: Path | None, coco_json: Path | None, save_maps: Path | None,
           keypoint_scale: str, part_candidates: bool, render: RenderOptions,
           ctx: "RunContext") -> tuple[list["FrameSink"], "CocoSink | None", list[tuple[Path, str]]]:
    """The sinks asked for (their folders checked writable), the COCO sink, and the (folder, suffix) of each
    per-image file, for --skip-existing (the maps' sink needs the network's skeleton: it is added later)."""
    from ..video import CocoSink, ImageSink, JsonSink, MapsSink, ensure_writable_dir

    sinks: list[FrameSink] = []
    outputs: list[tuple[Path, str]] = []
    if json_dir is not None:
        sinks.append(JsonSink(json_dir, keypoint_scale=to_keypoint_scale(keypoint_scale),
                              part_candidates=part_candidates))
        outputs.append((json_dir, JsonSink.suffix))
    if render_dir is not None:
        sinks.append(ImageSink(render_dir, render.painter()))
        outputs.append((render_dir, sinks[-1].suffix))
    coco = None
    if coco_json is not None:
        if ctx.is_root:
            ensure_writable_dir(coco_json.parent)
        coco = CocoSink(None if ctx.distributed else coco_json)
        sinks.append(coco)
    if save_maps is not None:
        ensure_writable_dir(save_maps)
        outputs.append((save_maps, MapsSink.suffix))
    return sinks, coco, outputs


def _run(opts: EstimatorOptions, ctx: "RunContext", items: list[tuple[Path, str]], to_do: list[int], skipped: int,
         sinks: list["FrameSink"], coco: "CocoSink | None", coco_json: Path | None, save_maps: Path | None,
         failures: "FailureLog", strict: bool, verbose: bool, summary_json: Path | None) -> None:
    """Load the network and run it on this process's images; the summary, and the exit status."""
    from ..runs import RunSummary, gather_to_root, process_group
    from ..video import CocoSink, FrameResult, ImageSource, MapsSink, run_pipeline
    from . import signals

    with process_group(ctx, opts.device):
        estimator = build_estimator(opts)
        if save_maps is not None:
            sinks.append(MapsSink(save_maps, estimator.skeleton))
        bar = Progress(len(to_do), "image", ctx, enabled=not verbose)

        def fail(path: Path, reason: str) -> None:
            bar.write(f"Warning: failed: {reason}")
            failures.add(path, reason)
            bar.update(1)

        source = ImageSource([items[i] for i in to_do], indices=to_do, strict=strict, on_skip=fail)

        finished: list[int] = []

        def progress(result: FrameResult) -> None:
            finished.append(result.frame.index)
            if verbose:
                n = len(result.people)
                click.echo(f"{result.frame.path}: {count(n, 'person')}")
            bar.update(1)

        try:
            report = run_pipeline(estimator, source, sinks, progress=progress)
        except OpenPoseError:
            bar.close()
            if strict and source.skipped:  # the unreadable image that stopped the run
                failures.add(*source.skipped[-1])
            click.echo(f"Stopped by an error after {len(finished)} images: the outputs finished before it are "
                       "kept.", err=True)
            raise
        finally:
            bar.close()
        summary = RunSummary(ctx.rank, report.frames, skipped, len(failures), report.people, report.seconds,
                             unit="image")
        if report.interrupted or signals.stopping():
            stopped(ctx, summary)
            click.echo("Interrupted: the outputs written so far are complete.", err=True)
            raise click.exceptions.Exit(signals.exit_status())
        if coco is not None and ctx.distributed:
            rows = gather_to_root(coco.rows, ctx)
            if rows is not None:
                CocoSink.write_rows(coco_json, [row for share in rows for row in share])
        status = finish(ctx, summary, failures, summary_json)
    if not ctx.distributed and report.frames == 0 and len(failures) and not skipped:
        raise ImageReadError(f"none of the {len(failures)} images could be read")
    if status:
        raise click.exceptions.Exit(status)
