"""Robust multi-view triangulation of many points at once (N points, V views, all vectorised).

1. **Weighted DLT** (:func:`weighted_dlt`): each view adds the two rows ``c (x P3 - P1)``, ``c (y P3 - P2)`` scaled by
   its confidence ``c``; the point is the right singular vector of the smallest singular value (one batched SVD).
2. **View selection by consensus over view pairs** (:func:`triangulate_points`): every pair of views that both see
   a point proposes it (a 2-view DLT, batched over points and pairs); each proposal counts the views that reproject
   within ``threshold`` pixels of their observation; the proposal with the most such views (then the lowest error)
   names the inlier views. This is RANSAC over views made exhaustive: with the few cameras of a capture (V <= ~10,
   at most 45 pairs) trying every pair costs little, is deterministic, and, unlike removing the worst view from an
   all-view DLT one at a time, is not misled by one far-off point (an outlier, a left/right swap) that drags the
   first estimate and hides which view is wrong. A point keeps up to V - 2 bad views.
3. **Refinement** (:func:`refine`): a few damped Gauss-Newton steps on the confidence-weighted reprojection error of
   the inlier views (analytic Jacobian of the pinhole projection, a 3x3 solve per point); then the inliers are taken
   again from the refined point (a good view left out by a noisy pair comes back) and the point refined once more.

Points are ideal pinhole pixels (``Camera.undistort``) and cameras their ``P = K [R | t]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import NamedTuple

import numpy as np

from ..checks import check_all

__all__ = ["TriangulationConfig", "Triangulated", "weighted_dlt", "refine", "reproject", "triangulate_points"]


@dataclass(frozen=True, slots=True)
class TriangulationConfig:
    """Attributes:
        threshold: reprojection error (pixels) under which a view agrees with a point.
        min_views: views a point needs (2 or more) to be triangulated.
        refine_steps: Gauss-Newton steps on the reprojection error (0: DLT only).
    """

    threshold: float = 15.0
    min_views: int = 2
    refine_steps: int = 5

    def __post_init__(self) -> None:
        check_all((
            (np.isfinite(self.threshold) and self.threshold > 0,
             f"threshold must be a positive number of pixels, got {self.threshold}"),
            (int(self.min_views) == self.min_views and self.min_views >= 2,
             f"min_views must be an integer >= 2, got {self.min_views}"),
            (int(self.refine_steps) == self.refine_steps and self.refine_steps >= 0,
             f"refine_steps must be an integer >= 0, got {self.refine_steps}"),
        ))


class Triangulated(NamedTuple):
    """Per point: ``points`` (N, 3) (NaN where not triangulated), ``inliers`` (N, V) the views used, ``error`` (N,)
    mean reprojection error of those views (pixels), ``score`` (N,) their mean confidence (0 where missing)."""

    points: np.ndarray
    inliers: np.ndarray
    error: np.ndarray
    score: np.ndarray


def weighted_dlt(P: np.ndarray, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Points (..., 3) from projections ``P`` (V, 3, 4) or (..., V, 3, 4), pixels ``x`` (..., V, 2) and weights
    ``w`` (..., V) (0 drops a view). A point seen with weight in fewer than 2 views comes out NaN."""
    x = np.nan_to_num(np.asarray(x, dtype=np.float64))
    w = np.where(np.isfinite(w), w, 0.0)
    rows = x[..., :, :, None] * P[..., 2:3, :] - P[..., :2, :]  # (..., V, 2, 4)
    A = (rows * w[..., :, None, None]).reshape(*x.shape[:-2], -1, 4)
    # the solution does not depend on the system's scale; rescaling keeps the SVD well conditioned for pixel units
    A = A / np.maximum(np.abs(A).max(axis=(-2, -1), keepdims=True), 1e-300)
    _, _, vt = np.linalg.svd(A)
    h = vt[..., -1, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        X = h[..., :3] / h[..., 3:4]
    enough = (w > 0).sum(axis=-1) >= 2
    return np.where(enough[..., None], X, np.nan)


def reproject(P: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (..., V, 2) and depths (..., V) of points ``X`` (..., 3) in views ``P`` (V, 3, 4)."""
    h = np.einsum("vij,...j->...vi", P[:, :, :3], X) + P[:, :, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        return h[..., :2] / h[..., 2:3], h[..., 2] / np.linalg.norm(P[:, 2, :3], axis=-1)


def _errors(P: np.ndarray, X: np.ndarray, x: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Reprojection errors (..., V); inf where a view does not see the point or it lies behind that camera."""
    uv, depth = reproject(P, X)
    err = np.linalg.norm(uv - x, axis=-1)
    return np.where(seen & (depth > 0) & np.isfinite(err), err, np.inf)


def refine(P: np.ndarray, X: np.ndarray, x: np.ndarray, w: np.ndarray, steps: int = 5) -> np.ndarray:
    """``steps`` damped Gauss-Newton steps from ``X`` (N, 3) on sum_v w (reprojection error)^2; a step that does not
    lower a point's cost is not taken for that point."""
    x = np.nan_to_num(np.asarray(x, dtype=np.float64))
    sw = np.sqrt(np.clip(w, 0, None))[..., None]  # (N, V, 1)

    def cost(X: np.ndarray) -> np.ndarray:
        uv, _ = reproject(P, X)
        return np.nansum(((uv - x) * sw) ** 2, axis=(-2, -1))

    X = np.array(X, dtype=np.float64)
    current = cost(X)
    damping = 1e-6
    for _ in range(steps):
        h = np.einsum("vij,nj->nvi", P[:, :, :3], X) + P[:, :, 3]  # (N, V, 3)
        uv = h[..., :2] / h[..., 2:3]
        r = (uv - x) * sw  # (N, V, 2)
        J = (P[None, :, :2, :3] - uv[..., None] * P[None, :, 2:3, :3]) / h[..., 2:3, None] * sw[..., None]
        J = J.reshape(len(X), -1, 3)
        r = np.nan_to_num(r.reshape(len(X), -1))
        J = np.nan_to_num(J)
        JtJ = J.transpose(0, 2, 1) @ J
        JtJ += damping * np.trace(JtJ, axis1=1, axis2=2)[:, None, None] * np.eye(3) + 1e-12 * np.eye(3)
        step = np.linalg.solve(JtJ, -(J.transpose(0, 2, 1) @ r[..., None]))[..., 0]
        candidate = X + step
        new = cost(candidate)
        better = np.isfinite(new) & (new < current)
        X = np.where(better[:, None], candidate, X)
        current = np.where(better, new, current)
    return X


def triangulate_points(P: np.ndarray, x: np.ndarray, c: np.ndarray,
                       config: TriangulationConfig = TriangulationConfig()) -> Triangulated:
    """Robustly triangulate N points seen in V views: ``P`` (V, 3, 4), undistorted pixels ``x`` (N, V, 2),
    confidences ``c`` (N, V) (0 or NaN: not seen). See the module docstring for the method."""
    P = np.asarray(P, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    seen = np.isfinite(c) & (c > 0) & np.isfinite(x).all(axis=-1)
    c = np.where(seen, c, 0.0)
    N, V = c.shape
    inliers = np.zeros((N, V), dtype=bool)
    if V >= 2 and N:
        pairs = np.array(list(combinations(range(V), 2)))  # (H, 2)
        X_h = weighted_dlt(P[pairs], x[:, pairs], c[:, pairs])  # one 2-view DLT per point and pair: (N, H, 3)
        err = _errors(P, X_h, x[:, None], seen[:, None])  # (N, H, V)
        agree = err < config.threshold
        valid = agree[:, np.arange(len(pairs)), pairs[:, 0]] & agree[:, np.arange(len(pairs)), pairs[:, 1]]
        count = np.where(valid, agree.sum(axis=-1), 0)
        spent = np.where(agree, err, 0.0).sum(axis=-1) / (config.threshold * V)  # < 1: only breaks ties
        best = np.argmax(count - spent, axis=1)
        inliers = agree[np.arange(N), best] & (count[np.arange(N), best] >= 2)[:, None]
    X = _solve(P, x, c, inliers, config)
    err = _errors(P, X, x, seen)
    again = (err < config.threshold) & inliers.any(axis=1, keepdims=True)
    changed = (again != inliers).any(axis=1) & (again.sum(axis=1) >= 2)
    if changed.any():
        inliers = np.where(changed[:, None], again, inliers)
        X[changed] = _solve(P, x[changed], c[changed], inliers[changed], config)
        err = _errors(P, X, x, seen)
    ok = inliers.sum(axis=1) >= config.min_views
    inliers &= ok[:, None]
    n = np.maximum(inliers.sum(axis=1), 1)
    error = np.where(ok, np.where(inliers, err, 0.0).sum(axis=1) / n, np.nan)
    score = np.where(ok, np.where(inliers, c, 0.0).sum(axis=1) / n, 0.0)
    return Triangulated(np.where(ok[:, None], X, np.nan), inliers, error, score)


def _solve(P: np.ndarray, x: np.ndarray, c: np.ndarray, inliers: np.ndarray,
           config: TriangulationConfig) -> np.ndarray:
    w = np.where(inliers, c, 0.0)
    X = weighted_dlt(P, x, w)
    good = np.isfinite(X).all(axis=1)
    if config.refine_steps and good.any():
        X[good] = refine(P, X[good], x[good], w[good], config.refine_steps)
    return X
