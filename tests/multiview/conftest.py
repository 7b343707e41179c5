"""Small synthetic multi-view scenes: a ring of distorted cameras around people of a hand-made 3-D skeleton."""

from __future__ import annotations

import numpy as np
import pytest

from openpose_py.multiview import Camera
from openpose_py.skeleton import get_skeleton

SKELETON = get_skeleton("COCO_18")

# A standing person (metres; x right, y down, z depth), COCO_18 order: Nose, Neck, RShoulder, RElbow, RWrist,
# LShoulder, LElbow, LWrist, RHip, RKnee, RAnkle, LHip, LKnee, LAnkle, REye, LEye, REar, LEar
BODY = np.array([
    [0.0, -1.62, 0.08], [0.0, -1.45, 0.0], [-0.19, -1.43, 0.0], [-0.25, -1.15, 0.05], [-0.28, -0.9, 0.15],
    [0.19, -1.43, 0.0], [0.26, -1.15, -0.03], [0.3, -0.92, -0.1], [-0.11, -0.95, 0.0], [-0.12, -0.5, 0.03],
    [-0.13, -0.08, 0.0], [0.11, -0.95, 0.0], [0.13, -0.5, 0.0], [0.14, -0.08, -0.02], [-0.04, -1.66, 0.06],
    [0.04, -1.66, 0.06], [-0.08, -1.64, -0.01], [0.08, -1.64, -0.01],
])


def ring_cameras(n: int = 5, radius: float = 4.0, distortion: tuple = (-0.15, 0.05, 0.001, -0.001, 0.0)) -> list[Camera]:
    """``n`` cameras (640x480) on a circle at head height, looking at the centre of the floor area."""
    cams = []
    for i in range(n):
        a = 2 * np.pi * i / n
        centre = np.array([radius * np.cos(a), -1.5, radius * np.sin(a)])
        z = np.array([0.0, -0.9, 0.0]) - centre
        z /= np.linalg.norm(z)
        x = np.cross([0.0, 1.0, 0.0], z)
        x /= np.linalg.norm(x)
        R = np.stack([x, np.cross(z, x), z])
        cams.append(Camera.from_rotation_matrix(f"cam{i}", [[500, 0, 320], [0, 500, 240], [0, 0, 1]], distortion, R,
                                                -R @ centre, (640, 480)))
    return cams


def people_at(offsets: list[tuple[float, float]], turn: float = 0.0) -> np.ndarray:
    """(P, 18, 3) people standing at floor positions (x, z), each turned by ``turn`` radians."""
    c, s = np.cos(turn), np.sin(turn)
    R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.stack([BODY @ R.T + np.array([dx, 0.0, dz]) for dx, dz in offsets])


def detections(truth: np.ndarray, cameras: list[Camera], noise: float = 0.0, seed: int = 0) -> list[np.ndarray]:
    """Per camera, (P, 18, 3) observed pixels and confidence 0.9 (0 outside the picture)."""
    rng = np.random.default_rng(seed)
    views = []
    for cam in cameras:
        xy = cam.project(truth) + rng.normal(scale=noise, size=truth.shape[:-1] + (2,)) if noise else cam.project(truth)
        inside = ((xy >= 0) & (xy < np.asarray(cam.size))).all(-1)
        views.append(np.concatenate([np.nan_to_num(xy), np.where(inside, 0.9, 0.0)[..., None]], axis=-1))
    return views


@pytest.fixture(scope="module")
def cameras() -> list[Camera]:
    return ring_cameras()
