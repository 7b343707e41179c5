"""Frame sources, output sinks, and the pipelined pose run that joins them.

- :mod:`.sources`: what frames come from (image files, video files, stream URLs, cameras).
- :mod:`.sinks`: where results go, every sink in one place (OpenPose JSON, rendered images, heatmap/PAF pictures, a
  video, COCO results, the tracks table, the live window).
- writing output files atomically and probing output directories: :mod:`openpose_py.atomic`.
- :mod:`.pipeline`: :func:`run_pipeline`, the threaded reader -> estimator -> writer run.
"""

from ..atomic import ensure_writable_dir
from .pipeline import RunReport, run_pipeline
from .sinks import (VIDEO_FOURCC, CocoSink, DisplaySink, FrameResult, FrameSink, ImageSink, JsonSink, KeypointScale,
                    MapsSink, TracksTableSink, VideoSink)
from .sources import (Frame, FrameRange, FrameSource, ImageSource, StreamInfo, VideoSource, expand_image_paths,
                      expand_video_paths, is_stream_url)

__all__ = [
    # sources
    "Frame", "FrameRange", "FrameSource", "ImageSource", "StreamInfo", "VideoSource", "expand_image_paths",
    "expand_video_paths", "is_stream_url",
    # sinks
    "VIDEO_FOURCC", "CocoSink", "FrameResult", "FrameSink", "ImageSink", "JsonSink", "KeypointScale", "MapsSink",
    "VideoSink", "TracksTableSink", "DisplaySink",
    # atomic writing
    "ensure_writable_dir",
    # the run
    "RunReport", "run_pipeline",
]
