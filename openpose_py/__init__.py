"""openpose_py: multi-person 2D pose estimation (OpenPose) in PyTorch."""

import os
import sys

# torch runs only the short pre- and post-processing steps around an OpenVINO/ONNX Runtime network; with OpenMP's
# default policy its idle threads spin between those steps and take the cores from the network (the default CLI run
# took 3x longer on a busy 2-core machine; docs/benchmarks.md). OpenMP reads the policy when torch loads, so it is set
# here, before any module of this package imports torch; a policy already in the environment is kept.
if "torch" not in sys.modules:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .errors import OpenPoseError  # noqa: E402
from .results import Keypoint, Person  # noqa: E402
from .skeleton import BODY_25, COCO_18, FACE_70, HAND_21, MPI_15, Skeleton  # noqa: E402

__all__ = ["PoseEstimator", "DecoderConfig", "Person", "Keypoint", "Skeleton", "COCO_18", "BODY_25", "MPI_15",
           "HAND_21", "FACE_70", "PartsConfig", "OpenPoseError", "PoseTracker", "TrackerConfig", "SmoothingConfig"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # torch-heavy pieces load on first use so that `import openpose_py` and the CLI's --help stay quick
    if name == "PoseEstimator":
        from .inference import PoseEstimator
        return PoseEstimator
    if name == "DecoderConfig":
        from .decode.decoder import DecoderConfig
        return DecoderConfig
    if name in ("PoseTracker", "TrackerConfig", "SmoothingConfig"):
        from . import track
        return getattr(track, name)
    if name == "PartsConfig":
        from .parts.config import PartsConfig
        return PartsConfig
    raise AttributeError(name)
