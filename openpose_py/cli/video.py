"""``openpose-py video``: poses on every frame of a video file or stream, as a rendered video and OpenPose JSON; or
on a collection of videos, one after the other, or shared among the processes of a ``torchrun`` launch."""

from __future__ import annotations

import glob
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import click

from ..errors import OpenPoseError, VideoError
from ..runs.ledger import count
from .collection import Progress, finish, list_files, rank_estimator_options, read_inputs, run_options, stopped
from .overwrites import refuse_overwriting_inputs
from .options import (
    EstimatorOptions,
    RenderOptions,
    build_estimator,
    estimator_options,
    parts_options,
    keypoint_scale_option,
    quiet_video_backends,
    render_options,
)
from .options import keypoint_scale as to_keypoint_scale
from .tracking import TrackingOptions, tracking_stage, tracking_options, tracks_sinks

if TYPE_CHECKING:
    import threading

    from ..inference import PoseEstimator
    from ..render import Painter
    from ..runs import FailureLog, Outputs
    from ..video import FrameRange, FrameSink, FrameSource, RunReport
    from ..video.stage import ResultStage

__all__ = ["video", "check_video_output", "run_with_progress"]


def check_video_output(output: Path | None) -> None:
    """Reject an output video name whose container cannot be written (a usage error)."""
    from ..video import VIDEO_FOURCC

    if output is not None and output.suffix.lower() not in VIDEO_FOURCC:
        raise click.BadParameter(f"{output}: the video must end in one of {', '.join(sorted(VIDEO_FOURCC))}",
                                 param_hint="'--output'")


def run_with_progress(estimator: "PoseEstimator", source: "FrameSource", sinks: Sequence["FrameSink"], *,
                      batch_size: int = 1, stop: "threading.Event | None" = None,
                      latest_only: bool = False, stage: "ResultStage | None" = None) -> "RunReport":
    """:func:`run_pipeline` with a frames-per-second progress bar, then a summary line. A run stopped by a signal
    says so; one stopped by an error says which frames were kept, then the error propagates."""
    from ..runs import RunContext
    from ..video import run_pipeline

    bar = Progress(source.info.frame_count, "frame", RunContext.from_env())
    try:
        report = run_pipeline(estimator, source, sinks, batch_size=batch_size, progress=lambda _: bar.update(1),
                           stop=stop, latest_only=latest_only, stage=stage)
    except OpenPoseError:
        bar.close()
        click.echo(f"Stopped by an error after {bar.count} frames: the outputs finished before it are kept.",
                   err=True)
        raise
    finally:
        bar.close()
    click.echo(f"{count(report.frames, 'frame')}, {count(report.people, 'person')}, {report.fps:.1f} frames/s",
               err=True)
    if report.interrupted:
        click.echo("Stopped early: every output written so far is complete.", err=True)
    return report


def _sinks(json_dir: Path | None, output: Path | None, keypoint_scale: str, part_candidates: bool,
           painter: "Painter") -> list["FrameSink"]:
    from ..video import JsonSink, VideoSink

    sinks: list[FrameSink] = []
    if json_dir is not None:
        sinks.append(JsonSink(json_dir, keypoint_scale=to_keypoint_scale(keypoint_scale),
                              part_candidates=part_candidates))
    if output is not None:
        sinks.append(VideoSink(output, painter))
    return sinks


@click.command("video")
@click.argument("sources", nargs=-1, metavar="SOURCE...")
@estimator_options
@parts_options
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None,
              help="One input: write the rendered video here (same size and frame rate; .mp4, .avi, .mov, .mkv, "
                   ".m4v). Several: a folder, one <name>.mp4 per input.")
@click.option("--json-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write OpenPose JSON, <video stem>_<12-digit frame index>_keypoints.json per frame; with several "
                   "inputs, in a folder <name>/ per input, which appears when its video is done.")
@click.option("--part-candidates", is_flag=True, help="Add every keypoint candidate to the JSON (needs --json-dir).")
@keypoint_scale_option
@render_options
@click.option("--start", type=click.IntRange(min=0), default=0, show_default=True, help="First frame index.")
@click.option("--end", type=click.IntRange(min=1), default=None, help="Stop before this frame index.")
@click.option("--step", type=click.IntRange(min=1), default=1, show_default=True, help="Process every N-th frame.")
@click.option("--batch-size", type=click.IntRange(min=1), default=1, show_default=True,
              help="Frames run through the network together.")
@run_options
@tracking_options(smooth=None)
def video(sources: tuple[str, ...], estimator_options: EstimatorOptions, output: Path | None,
          json_dir: Path | None, part_candidates: bool, keypoint_scale: str, render: RenderOptions, start: int,
          end: int | None, step: int, batch_size: int, inputs_from: Path | None, skip_existing: bool,
          failures_path: Path | None, summary_json: Path | None, tracking_options: TrackingOptions) -> None:
    """Estimate poses on a video file or stream URL (rtsp://, http://, ...), or on many.

    SOURCE may be a video file, a stream URL, a folder (searched recursively for videos) or @LIST, a text file
    naming one input per line. Reading, inference and writing run concurrently. Ctrl-C, SIGTERM and SIGHUP stop
    cleanly: the output video is closed and playable and every JSON file written is complete (exit 130, 143, 129).

    With several inputs, each video's outputs appear whole when it is done (--skip-existing resumes a stopped run;
    a video stopped part-way is redone), an input that fails is reported (and listed in --failures) and the others
    go on. Under torchrun each process takes every N-th video (N processes):
    torchrun --nproc-per-node 4 --no-python openpose-py video clips/ --json-dir out/

    \b
    Examples:
      openpose-py video clip.mp4 --output clip_pose.mp4 --json-dir json/
      openpose-py video clip.mp4 --json-dir json/ --smooth --tracks-csv tracks.csv
      openpose-py video dance.mp4 --output dance_pose.mp4 --render-style controlnet
      openpose-py video rtsp://camera.local/stream --json-dir json/ --step 5
      openpose-py video clips/ --json-dir json/ --output rendered/ --skip-existing --failures failed.jsonl
    """
    from ..video import FrameRange

    if part_candidates and json_dir is None:
        raise click.UsageError("--part-candidates needs --json-dir")
    if end is not None and end <= start:
        raise click.BadParameter(f"--end ({end}) must be greater than --start ({start})", param_hint="'--end'")
    if output is None and json_dir is None and tracking_options.tracks_csv is None:
        raise click.UsageError("nothing to write: give --output, --json-dir and/or --tracks-csv")
    inputs = read_inputs(sources, inputs_from)
    lists = list_files(sources, inputs_from)
    frames = FrameRange(start, end, step)
    sink_args = (keypoint_scale, part_candidates, render.painter())
    if tracking_options.smooth is None:  # flicker is what pose videos for image generation must not have
        tracking_options = replace(tracking_options, smooth=render.style == "controlnet" and tracking_options.track)
    quiet_video_backends()
    single = inputs[0]
    if len(inputs) == 1 and inputs_from is None and sources[0] == single and not Path(single).is_dir() \
            and not glob.has_magic(single):  # a folder or a glob is a collection, even when it names one video
        given = [flag for flag, value in (("--skip-existing", skip_existing), ("--failures", failures_path),
                                          ("--summary-json", summary_json)) if value]
        if given:
            raise click.UsageError(f"{', '.join(given)}: for several inputs (a folder, @LIST or --inputs-from); "
                                   "one video is one unit of work")
        refuse_overwriting_inputs([single, *lists],
                                  [("--output", output), ("--tracks-csv", tracking_options.tracks_csv)])
        _one_video(single, estimator_options, output, json_dir, sink_args, frames, batch_size, tracking_options)
    else:
        if tracking_options.tracks_csv is not None:
            raise click.UsageError("--tracks-csv: for one video; with several inputs each video's JSON carries its "
                                   "track ids (person_id)")
        _collection(inputs, lists, estimator_options, output, json_dir, sink_args, frames, batch_size, skip_existing,
                    failures_path, summary_json, tracking_options)


def _one_video(source: str, estimator_options: EstimatorOptions, output: Path | None, json_dir: Path | None,
               sink_args: tuple[str, bool, "Painter"], frames: "FrameRange", batch_size: int,
               tracking_options: TrackingOptions) -> None:
    from ..runs import RunContext
    from ..video import VideoSource, is_stream_url
    from . import signals

    if not is_stream_url(source) and not Path(source).is_file():
        raise click.BadParameter(f"{source}: no such file", param_hint="'SOURCE'")
    check_video_output(output)
    ctx = RunContext.from_env()
    if not ctx.is_root:  # one input under torchrun: rank 0 does it
        click.echo(f"rank {ctx.rank}: no input to process", err=True)
        return
    # the source is opened (and its first frame decoded) before any output folder is created
    with VideoSource(source if is_stream_url(source) else Path(source), frames) as src:
        sinks = _sinks(json_dir, output, *sink_args) + tracks_sinks(tracking_options)
        estimator = build_estimator(rank_estimator_options(estimator_options, ctx))
        report = run_with_progress(estimator, src, sinks, batch_size=batch_size,
                                   stage=tracking_stage(tracking_options, estimator))
    if report.interrupted or signals.stopping():
        raise click.exceptions.Exit(signals.exit_status())


class _StoppedPartWay(KeyboardInterrupt):
    """A signal stopped a video of a collection part-way: its outputs were discarded."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.detail = (f"{source} was stopped part-way and its outputs discarded (a rerun with --skip-existing "
                       "redoes it); ")


def _collection(inputs: list[str], lists: list[Path], estimator_options: EstimatorOptions, output: Path | None,
                json_dir: Path | None, sink_args: tuple[str, bool, "Painter"], frames: "FrameRange", batch_size: int,
                skip_existing: bool, failures_path: Path | None, summary_json: Path | None,
                tracking_options: TrackingOptions) -> None:
    from ..atomic import ensure_writable_dir
    from ..runs import FailureLog, Outputs, RunContext, RunSummary, pending, process_group
    from ..video import VIDEO_FOURCC, expand_video_paths
    from . import signals

    if output is not None and output.suffix.lower() in VIDEO_FOURCC:
        raise click.BadParameter(f"{output}: with several inputs --output is a folder (one <name>.mp4 per input)",
                                 param_hint="'--output'")
    try:
        videos = expand_video_paths(inputs)
    except VideoError as exc:
        raise click.BadParameter(str(exc), param_hint="'SOURCE...'") from None
    ctx = RunContext.from_env()

    def outputs(name: str) -> Outputs:  # the JSON folder first: it is published last
        return Outputs((json_dir / name if json_dir is not None else None,
                        output / f"{name}.mp4" if output is not None else None))

    refuse_overwriting_inputs(
        [source for source, _ in videos] + lists,
        [("--failures", failures_path), ("--summary-json", summary_json)]
        + [("--output", outputs(name).paths[1]) for _, name in videos])
    for folder in (summary_json.parent if summary_json is not None and ctx.is_root else None, json_dir, output):
        if folder is not None:  # the summary is written at the end: a place it cannot go is told now
            ensure_writable_dir(folder)
    failures = FailureLog(failures_path, ctx.rank)
    share = ctx.shard(videos)
    to_do = pending(share, lambda video: outputs(video[1]), skip_existing)
    reports: list[RunReport] = []
    opts = rank_estimator_options(estimator_options, ctx)
    with process_group(ctx, opts.device):
        estimator = build_estimator(opts)
        bar = Progress(None, "frame", ctx)

        def summary() -> RunSummary:
            return RunSummary(ctx.rank, len(reports), len(share) - len(to_do), len(failures),
                              sum(r.people for r in reports), sum(r.seconds for r in reports), unit="video")

        try:
            for source, name in to_do:
                report = _video_of_many(estimator, source, outputs(name), sink_args, frames, batch_size,
                                        tracking_options, bar, failures)
                if report is not None:
                    reports.append(report)
                if signals.stopping():  # the signal came while this video's outputs were being finished
                    raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            bar.close()
            stopped(ctx, summary())
            click.echo(f"Interrupted: {getattr(exc, 'detail', '')}the videos finished before it are complete.",
                       err=True)
            raise click.exceptions.Exit(signals.exit_status()) from None
        bar.close()
        status = finish(ctx, summary(), failures, summary_json)
    if status:
        raise click.exceptions.Exit(status)


def _video_of_many(estimator: "PoseEstimator", source: str, final: "Outputs", sink_args: tuple[str, bool, "Painter"],
                   frames: "FrameRange", batch_size: int, tracking_options: TrackingOptions, bar: Progress,
                   failures: "FailureLog") -> "RunReport | None":
    """One video of a collection, its outputs staged and published whole: its report, or None when it failed (the
    frames before a failure part-way are published; a video stopped by a signal is discarded)."""
    from ..video import VideoSource, run_pipeline
    from . import signals

    try:
        src = VideoSource(source, frames)
    except VideoError as exc:
        bar.write(f"Warning: failed: {exc}")
        failures.add(source, str(exc))
        return None
    stage = final.open_staged()
    kept: list[int] = []
    error: VideoError | None = None
    try:
        with src:  # each video tracks its own people from id 0
            report = run_pipeline(estimator, src, _sinks(*stage.paths, *sink_args), batch_size=batch_size,
                                  progress=lambda r: (kept.append(1), bar.update(1)),
                                  stage=tracking_stage(tracking_options, estimator))
    except VideoError as exc:  # the input failed part-way: its finished frames are kept
        error = exc
    except BaseException:
        stage.discard()
        raise
    # a read that failed while a signal was stopping the run was cut by it: an interruption, not a corrupt input
    if (report.interrupted if error is None else signals.stopping()):
        stage.discard()
        raise _StoppedPartWay(source)
    if error is not None and not kept:
        stage.discard()  # nothing was written: an earlier run's outputs stay
    else:
        with signals.deferred():  # a signal now would leave half of this input's outputs published
            stage.publish_as(final)
    if error is not None:
        failures.add(source, f"{error}; the {len(kept)} frames before it are kept")
        bar.write(f"Warning: {error}; the {len(kept)} frames before it are kept")
        return None
    bar.write(f"{source}: {count(report.frames, 'frame')}, {count(report.people, 'person')}")
    return report
