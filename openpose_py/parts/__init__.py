"""Hands, faces and feet beside the body, as OpenPose outputs them, from MediaPipe's landmark networks (Apache-2.0)
run by OpenVINO: crop rules from a person's body (hands from wrist, elbow and shoulder; the face from the head
points), the networks over all of a frame's crops at once, the 468 -> 70 face table, BODY_25 assembly, and the
given-boxes mode (OpenPose's ``--hand_detector 2`` / ``--face_detector 2``)."""

from .boxes import BoxError
from .config import PartsConfig
from .estimator import PartsEstimator
from .face import FACE_FROM_MESH
from .feet import FEET_NOT_GIVEN, to_body25

__all__ = ["PartsConfig", "PartsEstimator", "BoxError", "FACE_FROM_MESH", "FEET_NOT_GIVEN", "to_body25"]
