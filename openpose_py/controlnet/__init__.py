"""A drop-in for controlnet_aux's ``OpenposeDetector`` (ControlNet's OpenPose preprocessor): the same call, the same
picture sizes and types, ControlNet's drawing pixel for pixel, on this package's shipped network, offline.

>>> from openpose_py.controlnet import OpenposeDetector               # doctest: +SKIP
>>> openpose = OpenposeDetector.from_pretrained("lllyasviel/Annotators")  # doctest: +SKIP
>>> control_image = openpose(image)                                   # doctest: +SKIP

Also here: the result types (``PoseResult``, ``BodyResult``, ``Keypoint``), ``draw_poses``, the CLI's
``ControlNetStyle`` and pose files (OpenPose JSON, ComfyUI's POSE_KEYPOINT JSON) for ``openpose-py render``.
"""

from .detector import OpenposeDetector
from .draw import ControlNetStyle, draw_body, draw_face, draw_hand, draw_poses
from .pictures import ResolutionError, hwc3, resize_image
from .poses import BodyResult, Keypoint, PoseResult, pose_results

__all__ = [
    "OpenposeDetector",
    "PoseResult",
    "BodyResult",
    "Keypoint",
    "draw_poses",
    "draw_body",
    "draw_hand",
    "draw_face",
    "pose_results",
    "ControlNetStyle",
    "ResolutionError",
    "hwc3",
    "resize_image",
]
