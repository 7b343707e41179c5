"""Every output sink, fed :class:`FrameResult` objects in frame order from the pipeline's writer thread.

- :mod:`.files`: the base :class:`FrameSink`, OpenPose JSON files (:class:`JsonSink`), rendered images
  (:class:`ImageSink`), heatmap/PAF pictures (:class:`MapsSink`), a rendered video (:class:`VideoSink`), COCO results
  (:class:`CocoSink`).
- :mod:`.table`: the tidy table of tracks (:class:`TracksTableSink`, CSV or Parquet).
- :mod:`.display`: the live window (:class:`DisplaySink`, and :func:`check_display`).

A new sink is a :class:`FrameSink` subclass (``open``, ``write``, ``close(keep)``) in this package.
"""

from .display import DisplaySink, check_display
from .files import (VIDEO_FOURCC, CocoSink, FrameResult, FrameSink, ImageSink, JsonSink, KeypointScale, MapsSink,
                    VideoSink)
from .table import COLUMNS, TracksTableSink

__all__ = ["VIDEO_FOURCC", "FrameResult", "KeypointScale", "FrameSink", "JsonSink", "ImageSink", "MapsSink",
           "VideoSink", "CocoSink", "TracksTableSink", "COLUMNS", "DisplaySink", "check_display"]
