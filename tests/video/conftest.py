"""Shared pieces of the video tests: the shared test video, and a stand-in estimator (no network needed).

The estimator is replaced by a deterministic fake so that these tests exercise openpose_py.video alone; the real
network runs through the same code in tests/cli/.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openpose_py.results import Keypoint, Person
from openpose_py.skeleton import COCO_18

from ..conftest import SHARED

SELFIE = SHARED / "data" / "videos" / "selfie_upper_body.mp4"

needs_shared = pytest.mark.shared("data/videos/selfie_upper_body.mp4")


class FakeEstimator:
    """Puts one person whose Nose sits at (frame mean intensity, frame index-independent y) in each frame.

    Deterministic from the pixels, so batched and unbatched runs must agree. ``fail_at`` raises on that call.
    """

    skeleton = COCO_18

    def __init__(self, fail_at: int | None = None, error: BaseException | None = None) -> None:
        self.calls = 0
        self.fail_at = fail_at
        self.error = error or KeyboardInterrupt()

    def _people(self, image: np.ndarray) -> list[Person]:
        h, w = image.shape[:2]
        m = float(image.mean())
        kps = tuple(Keypoint(n, (m * (i + 1)) % w, (i * 17.0) % h, 0.5 + i / 40) if i % 3 else None
                    for i, n in enumerate(COCO_18.keypoints))
        return [Person(kps, m, COCO_18)]

    def predict_batch(self, images):
        self.calls += 1
        if self.fail_at is not None and self.calls >= self.fail_at:
            raise self.error
        return [self._people(im) for im in images]


def file_names(directory: Path) -> list[str]:
    """Names of every file below ``directory`` (hidden temporaries included), sorted."""
    return sorted(p.name for p in directory.rglob("*") if p.is_file())
