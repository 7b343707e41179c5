"""``openpose-py image``: poses on image files, folders and globs, written as OpenPose JSON, renders, COCO results."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import ImageReadError
from .options import (
    EstimatorOptions,
    build_estimator,
    estimator_options,
    keypoint_scale_option,
    quiet_video_backends,
    render_style,
    render_threshold_option,
)
from .options import keypoint_scale as to_keypoint_scale

__all__ = ["image"]


@click.command("image")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@estimator_options
@click.option("--json-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write OpenPose JSON, one <stem>_keypoints.json per image.")
@click.option("--render-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write each image with its skeletons drawn, <stem>_rendered.png.")
@click.option("--coco-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write all detections as one COCO keypoint results list.")
@click.option("--save-maps", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Write a heatmap + PAF picture per image, <stem>_maps.jpg (runs the network a second time).")
@click.option("--part-candidates", is_flag=True, help="Add every keypoint candidate to the JSON (needs --json-dir).")
@keypoint_scale_option
@render_threshold_option
@click.option("--strict", is_flag=True, help="Fail on an unreadable image instead of skipping it.")
@click.option("--verbose", "-v", is_flag=True, help="Print one line per image instead of a progress bar.")
def image(paths: tuple[str, ...], estimator_options: EstimatorOptions, json_dir: Path | None,
          render_dir: Path | None, coco_json: Path | None, save_maps: Path | None, part_candidates: bool,
          keypoint_scale: str, render_threshold: float, strict: bool, verbose: bool) -> None:
    """Estimate poses on images.

    PATH may be an image file, a folder (searched recursively for image files) or a glob such as 'shots/*.jpg'.
    Without any output option, one line per image is printed.

    \b
    Examples:
      openpose-py image photo.jpg --render-dir out/
      openpose-py image dataset/ --json-dir json/ --coco-json results.json --number-people-max 5
    """
    from ..video import (CocoSink, FrameResult, FrameSink, ImageSink, ImageSource, JsonSink, MapsSink,
                         ensure_writable_dir, expand_image_paths, run_video)

    if part_candidates and json_dir is None:
        raise click.UsageError("--part-candidates needs --json-dir")
    try:
        items = expand_image_paths(paths)
    except ImageReadError as exc:
        raise click.BadParameter(str(exc), param_hint="'PATH...'") from None
    quiet_video_backends()
    # sinks first: they prove their directories writable before a network is loaded or run
    sinks: list[FrameSink] = []
    if json_dir is not None:
        sinks.append(JsonSink(json_dir, keypoint_scale=to_keypoint_scale(keypoint_scale),
                              part_candidates=part_candidates))
    if render_dir is not None:
        sinks.append(ImageSink(render_dir, render_style(render_threshold)))
    if coco_json is not None:
        sinks.append(CocoSink(coco_json))
    if save_maps is not None:
        ensure_writable_dir(save_maps)
    estimator = build_estimator(estimator_options)
    if save_maps is not None:
        sinks.append(MapsSink(save_maps, estimator.skeleton))
    verbose = verbose or not sinks

    from tqdm import tqdm

    bar = tqdm(total=len(items), unit="image", disable=verbose, dynamic_ncols=True)

    def warn_skipped(path: Path, reason: str) -> None:
        bar.write(f"Warning: skipped {reason}", file=sys.stderr)
        bar.update(1)

    source = ImageSource(items, strict=strict, on_skip=warn_skipped)

    def progress(result: FrameResult) -> None:
        if verbose:
            n = len(result.people)
            click.echo(f"{result.frame.path}: {n} {'person' if n == 1 else 'people'}")
        bar.update(1)

    try:
        report = run_video(estimator, source, sinks, progress=progress)
    finally:
        bar.close()
    if report.frames == 0 and source.skipped and not report.interrupted:
        raise ImageReadError(f"none of the {len(source.skipped)} images could be read")
    unread = f", {len(source.skipped)} skipped (unreadable)" if source.skipped else ""
    click.echo(f"{report.frames} images, {report.people} people, {report.fps:.1f} images/s{unread}", err=True)
    if report.interrupted:
        click.echo("Interrupted: the outputs written so far are complete.", err=True)
        raise click.exceptions.Exit(130)
