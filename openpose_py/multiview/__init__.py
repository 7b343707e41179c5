"""Several calibrated cameras, one 3-D skeleton: cameras and calibration files, robust triangulation, people matched
across views without ids, 3-D ids across frames, OpenPose JSON with ``pose_keypoints_3d`` and OpenSim TRC files.

- :class:`Camera` (:mod:`.camera`): K, distortion, world-to-camera pose; projection and undistortion.
- :func:`read_calibration`, :func:`write_calibration` (:mod:`.calibration_io`): Pose2Sim TOML, OpenPose XML,
  OpenCV YAML.
- :func:`triangulate` (:mod:`.reconstruct`): one frame of 2-D people per view -> :class:`Person3D` people.
- :mod:`.triangulation`: weighted DLT, view selection by consensus, Gauss-Newton refinement (N points at once).
- :mod:`.association`: epipolar affinity and clustering of people across views.
"""

from .calibration_io import read_calibration, write_calibration, write_camera_files
from .camera import CalibrationError, Camera, MultiviewError
from .reconstruct import MultiviewConfig, Person3D, triangulate
from .triangulation import TriangulationConfig

__all__ = ["Camera", "CalibrationError", "MultiviewError", "read_calibration", "write_calibration", "write_camera_files",
           "MultiviewConfig", "Person3D", "TriangulationConfig", "triangulate"]
