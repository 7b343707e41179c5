"""``openpose-py render``: pose files (OpenPose JSON, ComfyUI POSE_KEYPOINT JSON) drawn as pictures or a video, in
OpenPose's or ControlNet's style; and pose files converted to ComfyUI's JSON."""

from __future__ import annotations

from pathlib import Path

import click

from ..runs.ledger import count
from .options import RENDER_STYLES, parse_size, render_style, render_threshold_option

__all__ = ["render"]


@click.command("render")
@click.argument("source", metavar="JSON_DIR_OR_FILE", type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None,
              help="A folder (one <name>_rendered.png per frame) or a video file (.mp4, .avi, .mov, .mkv, .m4v).")
@click.option("--render-style", "render_style_name", type=click.Choice(RENDER_STYLES), default="openpose",
              show_default=True, help="openpose: OpenPose's skeletons; controlnet: ControlNet's pose pictures.")
@click.option("--canvas-size", callback=parse_size, default=None, metavar="WxH",
              help="The pictures' size; needed for files that do not say theirs (OpenPose JSON). Points are scaled "
                   "from a file's own canvas to this one.")
@click.option("--fps", type=click.FloatRange(min=0.0, min_open=True, max=1000.0), default=30.0, show_default=True,
              help="Frame rate of an output video.")
@click.option("--comfyui-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write every frame to one ComfyUI POSE_KEYPOINT JSON file (pixels, with the canvas size).")
@render_threshold_option
def render(source: Path, output: Path | None, render_style_name: str, canvas_size: tuple[int, int] | None,
           fps: float, comfyui_json: Path | None, render_threshold: float) -> None:
    """Draw pose files as pictures or a video.

    JSON_DIR_OR_FILE is an OpenPose JSON file (ours, the official binary's, a pose editor's), a ComfyUI
    POSE_KEYPOINT file (a list of frames with canvas_width/canvas_height, in pixels or normalised to 0..1), or a
    folder of either, taken in name order. People are drawn on black.

    \b
    Examples:
      openpose-py render json/ --canvas-size 960x540 --output pose.mp4 --render-style controlnet
      openpose-py render poses.json --output pictures/ --render-style controlnet
      openpose-py render json/ --canvas-size 512x512 --comfyui-json poses.json
    """
    import numpy as np

    from ..controlnet.posefile import read_pose_frames, write_comfyui_json
    from ..video import VIDEO_FOURCC, Frame, FrameResult, FrameSink, ImageSink, StreamInfo, VideoSink

    if output is None and comfyui_json is None:
        raise click.UsageError("nothing to write: give --output and/or --comfyui-json")
    if output is not None and output.suffix and output.suffix.lower() not in VIDEO_FOURCC:
        raise click.BadParameter(f"{output}: a folder, or a video ending in one of {', '.join(sorted(VIDEO_FOURCC))}",
                                 param_hint="'--output'")
    frames = read_pose_frames(source, canvas_size)
    if output is not None and output.suffix and canvas_size is None:  # a video has one size: the first frame's
        frames = read_pose_frames(source, frames[0].size)
    sinks: list[FrameSink] = []
    painter = render_style(render_threshold, render_style_name)
    if output is not None:
        sinks.append(VideoSink(output, painter, fps=fps) if output.suffix else ImageSink(output, painter))
    kept = False
    try:
        for sink in sinks:
            sink.open(StreamInfo(source.name, fps, None, len(frames)))
        for index, frame in enumerate(frames):
            width, height = frame.size
            picture = Frame(index, np.zeros((height, width, 3), dtype=np.uint8), frame.name)
            for sink in sinks:
                sink.write(FrameResult(picture, frame.people))
        kept = True
    finally:
        for sink in sinks:
            sink.close(keep=kept)
    if comfyui_json is not None:
        write_comfyui_json(comfyui_json, frames)
    people = sum(len(f.people) for f in frames)
    click.echo(f"{count(len(frames), 'frame')}, {count(people, 'person')}", err=True)
