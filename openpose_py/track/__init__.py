"""Video tracking and smoothing: stable person ids across frames and jitter-free keypoints.

- :class:`PoseTracker` (:mod:`.tracker`, settings :class:`TrackerConfig` in :mod:`.config`): OKS similarity with a
  pixel tolerance, constant-velocity prediction and limb colours (:mod:`.appearance`) matched by the Hungarian method
  (:mod:`.association`), tentative tracks, re-identification of lost ones; its memory in :mod:`.state`.
- :class:`SmoothingConfig`, :class:`OneEuroFilter` (:mod:`.one_euro`): the One-Euro filter on real timestamps.
- :func:`track_frames` (:mod:`.stream`): a stream of frames through an estimator and a tracker, people with ids out
  (earlier frames relabelled once a new person's id is decided: :class:`~.stream.Relabeller`).
- :mod:`.metrics`: identity metrics (IDF1, ID switches, recall) against ground-truth ids.
"""

from .one_euro import OneEuroFilter, SmoothingConfig
from .stream import track_frames
from .tracker import PoseTracker, TrackerConfig

__all__ = ["PoseTracker", "TrackerConfig", "SmoothingConfig", "OneEuroFilter", "track_frames"]
