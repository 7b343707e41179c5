"""Faces: MediaPipe's 468-point face mesh on face crops -> OpenPose's 70 face points (68 iBUG landmarks through a fixed
index table, and the two pupils from MediaPipe's iris network on eye crops). A second pass crops again around the
first mesh, levelled by the eye corners, where the first crop was clearly off (as for hands: :func:`.passes.fits`)."""

from __future__ import annotations

import numpy as np

from .networks import LandmarkNetwork
from .passes import RETRY, Crops, crops_around, fits, retake_better, run_crops, sigmoid

__all__ = ["FACE_FROM_MESH", "find_faces", "FACE_POINTS"]

FACE_POINTS = 70
_MESH = 468
#: The mesh vertex nearest each of the 68 iBUG landmarks (OpenPose's face points 0-67): jaw (person's right ear to
#: left), right then left brow, nose bridge, nose bottom, right then left eye (from the outer corner, clockwise),
#: outer lips, inner lips. Checked against COCO-WholeBody's face ground truth (tests/parts/test_face.py).
FACE_FROM_MESH: tuple[int, ...] = (
    162, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 389,
    71, 63, 105, 66, 107, 336, 296, 334, 293, 301,
    168, 197, 5, 4, 75, 97, 2, 326, 305,
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
    78, 82, 13, 312, 308, 317, 14, 87,
)
#: Mesh eye corners (outer, inner) of the person's right eye (pupil 68) and left eye (pupil 69).
_EYES = ((33, 133), (263, 362))
_FACE_SCALE = 1.5  # MediaPipe's face rect from landmarks: 1.5 times the mesh's box
_EYE_SCALE = 2.3  # MediaPipe's eye rect: 2.3 times the corner-to-corner distance


def _decode_mesh(outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    n = len(outputs[0])
    return outputs[0].reshape(n, _MESH, 3)[:, :, :2], sigmoid(outputs[1][:, 0])


def _decode_iris(outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    n = len(outputs[1])
    return outputs[1].reshape(n, 5, 3)[:, :1, :2], np.ones(n)


def _level(mesh: np.ndarray) -> np.ndarray:
    """(N,) angles that level the line from the person's right eye's outer corner to the left eye's."""
    v = mesh[:, 263] - mesh[:, 33]
    return np.arctan2(v[:, 1], v[:, 0])


def _pupils(iris: LandmarkNetwork, image_bgr: np.ndarray, mesh: np.ndarray, batch: int) -> np.ndarray:
    """(N, 2, 2) right and left pupil centres from eye crops of each mesh (left eyes seen mirrored, as MediaPipe)."""
    n = len(mesh)
    a = np.concatenate([mesh[:, outer] for outer, _ in _EYES])
    b = np.concatenate([mesh[:, inner] for _, inner in _EYES])
    v = b - a
    crops = Crops((a + b) / 2, _EYE_SCALE * np.hypot(v[:, 0], v[:, 1]), np.arctan2(v[:, 1], v[:, 0]))
    # the crop's x axis runs outer -> inner corner: towards the nose for both eyes; MediaPipe's network wants the
    # right eye's view (nose on the right) and a mirrored view of the left, which is what the left eye's direction
    # already gives when its corners are taken outer -> inner. Mirror none.
    centres, _ = run_crops(iris, _decode_iris, image_bgr, crops, batch)
    return np.stack([centres[:n, 0], centres[n:, 0]], axis=1)


def find_faces(network: LandmarkNetwork, iris: LandmarkNetwork | None, image_bgr: np.ndarray, crops: Crops, *,
               passes: int = 2, presence: float = 0.5, batch: int = 32) -> np.ndarray:
    """(N, 70, 3) x, y, score in image pixels for N face crops, NaN where no face is there (presence below
    ``presence``); pupils NaN without ``iris``. Each point's score is the face's presence score."""
    mesh, score = run_crops(network, _decode_mesh, image_bgr, crops, batch)
    if passes == 2 and len(crops):
        found = np.flatnonzero(score >= RETRY * presence)  # a doubtful first crop may still be a near miss
        retake = crops_around(mesh[found], _level(mesh[found]), _FACE_SCALE)
        # only where the first crop was clearly off the face it found, or the first pass is unsure a face is there
        off = ~fits(crops.select(found), retake) | (score[found] < presence)
        found, retake = found[off], retake.select(np.flatnonzero(off))
        retake_better(network, _decode_mesh, image_bgr, retake, found, mesh, score, batch)
    out = np.full((len(crops), FACE_POINTS, 3), np.nan)
    keep = np.flatnonzero(score >= presence) if len(crops) else np.zeros(0, np.int64)
    if len(keep):
        out[keep, :68, :2] = mesh[keep][:, list(FACE_FROM_MESH)]
        if iris is not None:
            out[keep, 68:, :2] = _pupils(iris, image_bgr, mesh[keep], batch)
        out[keep, :, 2] = score[keep, None]
        out[keep, 68:, 2] = score[keep, None] if iris is not None else np.nan
    return out
