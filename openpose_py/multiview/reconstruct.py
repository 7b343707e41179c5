"""One frame of several calibrated views -> 3-D people: :func:`triangulate` (the Python API).

Undistort every view's 2-D people, match them across views (:mod:`.association`), undo a left/right swap where a
view's person fits its group better mirrored, triangulate each group robustly (:mod:`.triangulation`), match every
view's detections again to the 3-D people by reprojection error (putting back left-out views, dropping misfits) and
triangulate the final groups.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from ..checks import check_all
from ..results import Person
from ..skeleton import Skeleton
from .association import assign_to_people, cluster, epipolar_cost, finite_median
from .camera import Camera, MultiviewError, fundamental_matrix
from .triangulation import TriangulationConfig, reproject, triangulate_points

__all__ = ["Person3D", "MultiviewConfig", "triangulate"]


@dataclass(frozen=True, slots=True)
class MultiviewConfig:
    """Attributes:
        triangulation: per-keypoint view selection and refinement (reprojection threshold in pixels).
        match_threshold: pixels under which two views' people may be one person (median epipolar distance), and
            under which a view's person is matched to a 3-D person (median reprojection error).
        min_keypoints: triangulated keypoints a 3-D person needs to be reported.
        stray_factor: a keypoint farther from its person's median point than this many times the median such
            distance is dropped (people of 5 keypoints or more).
    """

    triangulation: TriangulationConfig = TriangulationConfig()
    match_threshold: float = 25.0
    min_keypoints: int = 3
    stray_factor: float = 3.5

    def __post_init__(self) -> None:
        check_all((
            (np.isfinite(self.match_threshold) and self.match_threshold > 0,
             f"match_threshold must be a positive number of pixels, got {self.match_threshold}"),
            (np.isfinite(self.stray_factor) and self.stray_factor > 1,
             f"stray_factor must be a number > 1, got {self.stray_factor}"),
            (int(self.min_keypoints) == self.min_keypoints and self.min_keypoints >= 1,
             f"min_keypoints must be an integer >= 1, got {self.min_keypoints}"),
        ))


@dataclass(frozen=True, eq=False)
class Person3D:
    """One person in 3-D (the calibration's units).

    Attributes:
        points: (K, 3) x, y, z per keypoint in skeleton order, NaN where missing.
        scores: (K,) mean 2-D confidence of the views used for each keypoint (0 where missing).
        skeleton: the keypoint table.
        views: (view, person index in that view) of the detections that make this person.
        error: mean reprojection error (pixels) of the keypoints' views.
        track_id: identity across frames (-1 until a :class:`~openpose_py.multiview.tracking.Tracker3D` sets it).
    """

    points: np.ndarray
    scores: np.ndarray
    skeleton: Skeleton = field(repr=False)
    views: tuple[tuple[int, int], ...] = ()
    error: float = float("nan")
    track_id: int = -1

    def __post_init__(self) -> None:
        for name, shape in (("points", (self.skeleton.num_keypoints, 3)), ("scores", (self.skeleton.num_keypoints,))):
            value = np.array(getattr(self, name), dtype=np.float64)
            if value.shape != shape:
                raise ValueError(f"{self.skeleton.name} Person3D.{name} must have shape {shape}, got {value.shape}")
            value.flags.writeable = False
            object.__setattr__(self, name, value)

    @property
    def present(self) -> np.ndarray:
        """(K,) whether each keypoint was triangulated."""
        return np.isfinite(self.points).all(axis=1)

    def pose_keypoints_3d(self) -> list[float]:
        """OpenPose's flat ``[x0, y0, z0, c0, ...]``; missing keypoints are ``0, 0, 0, 0``."""
        rows = np.where(self.present[:, None], np.column_stack([self.points, self.scores]), 0.0)
        return [float(f"{v:.6g}") for v in rows.reshape(-1)]

    def with_track_id(self, track_id: int) -> "Person3D":
        return replace(self, track_id=int(track_id))

    def with_points(self, points: np.ndarray) -> "Person3D":
        return replace(self, points=points)


def _as_arrays(view: Sequence[Person] | np.ndarray, skeleton: Skeleton | None) -> tuple[np.ndarray, Skeleton | None]:
    if isinstance(view, np.ndarray):
        arr = view.astype(np.float64)
        if arr.size == 0:
            return np.zeros((0, skeleton.num_keypoints if skeleton else 0, 3)), skeleton
        if arr.ndim != 3:
            raise ValueError(f"a view's people must be an array (P, K, 3), got shape {arr.shape}")
        return arr, skeleton
    people = list(view)
    if people and skeleton is None:
        skeleton = people[0].skeleton
    if any(p.skeleton is not skeleton for p in people):
        raise ValueError("all people must share one skeleton")
    k = skeleton.num_keypoints if skeleton is not None else 0
    return (np.stack([p.as_array() for p in people]).astype(np.float64) if people else np.zeros((0, k, 3))), skeleton


def _undistorted(views: list[np.ndarray], cameras: Sequence[Camera]) -> list[np.ndarray]:
    out = []
    for arr, cam in zip(views, cameras):
        conf = np.where(np.isfinite(arr[..., 2]) & np.isfinite(arr[..., :2]).all(-1), arr[..., 2], 0.0)
        conf = np.clip(conf, 0.0, None)
        xy = np.where((conf > 0)[..., None], arr[..., :2], np.nan)
        out.append(np.concatenate([cam.undistort(xy), conf[..., None]], axis=-1))
    return out


def _observations(groups: list[list[tuple[int, int, bool]]], und: list[np.ndarray], flip: np.ndarray,
                  K: int) -> tuple[np.ndarray, np.ndarray]:
    """x (G*K, V, 2) and c (G*K, V) of the groups' detections (mirrored where flagged)."""
    V = len(und)
    x = np.full((len(groups), K, V, 2), np.nan)
    c = np.zeros((len(groups), K, V))
    for g, members in enumerate(groups):
        for v, i, flipped in members:
            rows = und[v][i][flip] if flipped else und[v][i]
            x[g, :, v], c[g, :, v] = rows[:, :2], rows[:, 2]
    return x.reshape(-1, V, 2), c.reshape(-1, V)


def _reassign(X: np.ndarray, und: list[np.ndarray], P: np.ndarray, flip: np.ndarray,
              threshold: float) -> list[list[tuple[int, int, bool]]]:
    """Each view's detections matched to the 3-D people X (G, K, 3) by median reprojection error (mirrored or not)."""
    groups: list[list[tuple[int, int, bool]]] = [[] for _ in range(len(X))]
    uv, _ = reproject(P, X)  # (G, K, V, 2)
    for v, dets in enumerate(und):
        if not len(dets) or not len(X):
            continue
        costs = []
        for d in (dets, dets[:, flip]):
            err = np.linalg.norm(uv[:, None, :, v] - d[None, :, :, :2], axis=-1)  # (G, D, K)
            err = np.where(d[None, :, :, 2] > 0, err, np.nan)
            valid = np.isfinite(err).sum(axis=-1) >= 3
            err = np.where(np.isfinite(err), err, np.inf)
            costs.append(np.where(valid, finite_median(err), np.inf))
        flipped = costs[1] < costs[0]
        for g, i in assign_to_people(np.minimum(costs[0], costs[1]), threshold):
            groups[g].append((v, i, bool(flipped[g, i])))
    # a detector is right about left and right more often than not: the majority of views keeps its labels
    return [[(v, i, f != (2 * sum(f for *_, f in g) > len(g))) for v, i, f in g] for g in groups]


def _distinct(X: np.ndarray, sizes: list[int], P: np.ndarray, flip: np.ndarray, threshold: float) -> np.ndarray:
    """The 3-D people X (G, K, 3) less duplicates: a person whose median image distance (over keypoints and views,
    either side's labels) to one seen by more views is under ``threshold`` pixels is one person split in two."""
    uv, _ = reproject(P, X)  # (G, K, V, 2)
    d = np.minimum(*(finite_median(np.nan_to_num(np.linalg.norm(uv[:, None] - other[None], axis=-1), nan=np.inf)
                                .reshape(len(X), len(X), -1)) for other in (uv, uv[:, flip])))
    kept: list[int] = []
    for g in sorted(range(len(X)), key=lambda g: -sizes[g]):
        if all(d[g, h] >= threshold for h in kept):
            kept.append(g)
    return X[sorted(kept)]


def _without_strays(X: np.ndarray, factor: float) -> np.ndarray:
    """X (G, K, 3) with NaN for each keypoint farther from its person's median point than ``factor`` times the
    median such distance (a 2-view point made of a detector's outlier that happened to lie near the epipolar line)."""
    present = np.isfinite(X).all(-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # people with no keypoint
        centre = np.nanmedian(X, axis=1, keepdims=True)
        d = np.linalg.norm(X - centre, axis=-1)
        scale = np.nanmedian(d, axis=1, keepdims=True)
    stray = present & (present.sum(1, keepdims=True) >= 5) & (d > factor * scale)
    return np.where(stray[..., None], np.nan, X)


def triangulate(people_per_view: Sequence[Sequence[Person] | np.ndarray], cameras: Sequence[Camera],
                config: MultiviewConfig = MultiviewConfig(), skeleton: Skeleton | None = None) -> list[Person3D]:
    """The 3-D people of one frame seen by calibrated ``cameras``.

    Args:
        people_per_view: per camera (in ``cameras``' order), its people as :class:`Person` objects or an array
            (P, K, 3) of x, y, confidence in the camera's observed (distorted) pixels; confidence 0 or NaN = missing.
        skeleton: the keypoint table (needed when every view is given as arrays).
    """
    if len(people_per_view) != len(cameras):
        raise MultiviewError(f"{len(people_per_view)} views of people for {len(cameras)} cameras")
    arrays = []
    for view in people_per_view:
        arr, skeleton = _as_arrays(view, skeleton)
        arrays.append(arr)
    if skeleton is None:
        if any(len(a) for a in arrays):
            raise ValueError("triangulate needs a skeleton when the people come as arrays")
        return []
    K = skeleton.num_keypoints
    arrays = [a if len(a) else np.zeros((0, K, 3)) for a in arrays]
    if any(a.shape[1:] != (K, 3) for a in arrays):
        raise ValueError(f"every view's people must be (P, {K}, 3) for {skeleton.name}")
    und = _undistorted(arrays, cameras)
    flip = np.asarray(skeleton.flip_keypoints)
    costs, flips = {}, {}
    for u in range(len(cameras)):
        for v in range(u + 1, len(cameras)):
            if len(und[u]) and len(und[v]):
                costs[(u, v)], flips[(u, v)] = epipolar_cost(und[u], und[v],
                                                             fundamental_matrix(cameras[u], cameras[v]), flip)
    groups = []
    for members in cluster([len(a) for a in und], costs, config.match_threshold):
        (u, i), rest = members[0], members[1:]
        rel = [(v, j, bool(flips[(u, v)][i, j])) for v, j in rest]
        mirror_first = sum(f for _, _, f in rel) * 2 > len(rel)  # most views see the first one mirrored
        groups.append([(u, i, mirror_first)] + [(v, j, f != mirror_first) for v, j, f in rel])
    P = np.stack([cam.P for cam in cameras])
    for round_ in range(2):  # triangulate the groups, then match every view again to the 3-D people
        if not groups:
            return []
        x, c = _observations(groups, und, flip, K)
        tri = triangulate_points(P, x, c, config.triangulation)
        X = tri.points.reshape(len(groups), K, 3)
        if round_ == 0:
            keep = np.isfinite(X).all(-1).sum(-1) >= config.min_keypoints
            X = _distinct(X[keep], [len(g) for g, k in zip(groups, keep) if k], P, flip, config.match_threshold)
            groups = [sorted(g) for g in _reassign(X, und, P, flip, config.match_threshold) if len(g) >= 2]
    points = _without_strays(tri.points.reshape(len(groups), K, 3), config.stray_factor)
    people = []
    for g, members in enumerate(groups):
        sl = slice(g * K, (g + 1) * K)
        if np.isfinite(points[g]).all(-1).sum() < config.min_keypoints:
            continue
        error = np.where(np.isfinite(points[g]).all(-1), tri.error[sl], np.nan)
        people.append(Person3D(points[g], np.where(np.isfinite(error), tri.score[sl], 0.0), skeleton,
                               tuple((v, i) for v, i, _ in members),
                               float(np.nanmean(error)) if np.isfinite(error).any() else float("nan")))
    return people
