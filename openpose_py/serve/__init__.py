"""HTTP pose service and live browser page (``openpose-py serve``; needs the ``serve`` extra).

>>> from openpose_py import PoseEstimator                                   # doctest: +SKIP
>>> from openpose_py.serve import ServeConfig, create_app                   # doctest: +SKIP
>>> app = create_app(PoseEstimator.from_pretrained("lightweight"), ServeConfig(max_batch=8))  # doctest: +SKIP
"""

from __future__ import annotations

from .app import create_app
from .batcher import BatchTiming, MicroBatcher, Overloaded
from .config import TOKEN_ENV, ServeConfig, SessionFactory, StreamSession, Tracker, default_session
from .state import ServerState

__all__ = [
    "create_app", "ServerState", "ServeConfig", "StreamSession", "SessionFactory", "Tracker", "default_session",
    "TOKEN_ENV", "MicroBatcher", "Overloaded", "BatchTiming",
]
