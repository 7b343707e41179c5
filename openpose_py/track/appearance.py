"""What a person looks like, cheaply: the mean colour of the frame's pixels along the middle of each limb.

For each of the skeleton's drawn limbs whose two keypoints were found, :data:`SAMPLES` points are read (nearest
pixel) between 20% and 80% of the way from one keypoint to the other, so that the samples lie on the limb (sleeve,
trouser leg, torso side) rather than on the background around the joints; their mean BGR colour describes the limb.
A person is then a (L, 3) table of colours with an (L,) mask, compared limb by limb. One gather of P x L x S pixels
per frame; shapes follow the package glossary (P people, T tracks, D detections, L limbs).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SAMPLES", "COLOUR_SCALE", "limb_colours", "colour_similarity"]

#: Where along each limb its pixels are read (fractions of the way from its first keypoint to its second).
SAMPLES = np.linspace(0.2, 0.8, 5)
#: Colour difference (BGR, 0..255, Euclidean) at which a limb's similarity falls to exp(-1/2).
COLOUR_SCALE = 30.0


def limb_colours(image: np.ndarray, xy: np.ndarray, present: np.ndarray, limb_a: np.ndarray,
                 limb_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((P, L, 3) mean colour along each limb, (P, L) bool: the colour can be trusted: both keypoints found, the limb's
    middle in the frame and not inside the keypoint box of another person in front (lowest keypoint lower in the
    frame, as for people standing on one floor), where the pixels may be that person's).

    Args:
        image: (H, W, 3) uint8 BGR frame the people were found in.
        xy: (P, K, 2) keypoint positions in pixels; present: (P, K) bool.
        limb_a, limb_b: (L,) keypoint indices of each limb's two ends.
    """
    height, width = image.shape[:2]
    ax, ay, bx, by = xy[:, limb_a, 0], xy[:, limb_a, 1], xy[:, limb_b, 0], xy[:, limb_b, 1]  # (P, L) each
    mx, my = 0.5 * (ax + bx), 0.5 * (ay + by)  # x and y apart: these arrays are small, axis-of-2 work is slow
    ok = present[:, limb_a] & present[:, limb_b] & (mx >= 0) & (mx < width) & (my >= 0) & (my < height)
    if len(xy) > 1:
        lo = np.where(present[..., None], xy, np.inf).min(axis=1)  # (P, 2); +inf for a person with no keypoint
        hi = np.where(present[..., None], xy, -np.inf).max(axis=1)
        # (P, L, P): the middle is in the box of someone else in front (lowest keypoint lower: nearer the camera)
        inside = ((mx[..., None] >= lo[:, 0]) & (mx[..., None] <= hi[:, 0]) & (my[..., None] >= lo[:, 1])
                  & (my[..., None] <= hi[:, 1]))
        in_front = hi[None, :, 1] > hi[:, None, 1]  # (P, P): [p, q] q is in front of p
        ok &= ~(inside & in_front[:, None, :]).any(axis=-1)
    x = np.clip(np.rint(ax[..., None] + SAMPLES * (bx - ax)[..., None]), 0, width - 1).astype(np.intp)  # (P, L, S)
    y = np.clip(np.rint(ay[..., None] + SAMPLES * (by - ay)[..., None]), 0, height - 1).astype(np.intp)
    pixels = image.reshape(-1, image.shape[2])[y * width + x]  # (P, L, S, 3), one gather
    colours = pixels.sum(axis=2, dtype=np.float32) * np.float32(1.0 / len(SAMPLES))
    return colours, ok


def colour_similarity(a: np.ndarray, a_ok: np.ndarray, b: np.ndarray,
                      b_ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((T, D) mean over the limbs both have of exp(-|colour difference|^2 / (2 COLOUR_SCALE^2)), (T, D) how many
    limbs that mean is over; 0 where none).

    Args:
        a, b: (T, L, 3) and (D, L, 3) limb colours; a_ok, b_ok: (T, L) and (D, L) bool.
    """
    d2 = np.zeros((len(a), len(b), a.shape[1]), np.float32)
    for c in range(3):  # channel by channel: a sum over a last axis of 3 is slow for these small arrays
        diff = a[:, None, :, c] - b[None, :, :, c]
        d2 += diff * diff
    both = a_ok[:, None] & b_ok[None]
    per_limb = np.where(both, np.exp(d2 * np.float32(-0.5 / COLOUR_SCALE ** 2)), 0.0)
    count = both.sum(axis=-1)
    return per_limb.sum(axis=-1) / np.maximum(count, 1), count
