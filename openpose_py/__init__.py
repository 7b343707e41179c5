"""openpose_py: multi-person 2D pose estimation (OpenPose) in PyTorch."""

from .errors import OpenPoseError
from .results import Keypoint, Person
from .skeleton import BODY_25, COCO_18, MPI_15, Skeleton

__all__ = ["PoseEstimator", "DecoderConfig", "Person", "Keypoint", "Skeleton", "COCO_18", "BODY_25", "MPI_15",
           "OpenPoseError", "PoseTracker", "TrackerConfig", "SmoothingConfig"]
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
    raise AttributeError(name)
