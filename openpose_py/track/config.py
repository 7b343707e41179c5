"""How :class:`~openpose_py.track.PoseTracker` matches, confirms, keeps and ends tracks: :class:`TrackerConfig`,
every field checked at construction."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["TrackerConfig"]


def _check(name: str, value: object, ok: bool, want: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok:
        raise ValueError(f"TrackerConfig.{name} must be {want}, got {value!r}")


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """How tracks are matched, confirmed, kept and ended.

    Attributes:
        max_age: seconds a track unseen is still matched by its predicted pose (occlusion, missed detections).
        min_similarity: OKS (against the track's predicted pose) below which a person never continues a live track.
        velocity_weight: weight of each new velocity measurement against the track's running velocity (0..1].
        motion: predict where each track is now at its constant velocity (off: compare with its last position).
        appearance_weight: share of limb-colour similarity in the matching score (0: pose and motion only).
        reid_time: seconds a lost track keeps its appearance for re-identification (0: off).
        reid_similarity: limb-colour similarity (0..1] a returning person needs to get a lost track's id back.
        min_appearance: limb-colour similarity below which a person never continues a live track, when both show
            enough trusted limbs to compare (0: no such veto).
        min_hits: consecutive frames a new track must be matched in before it gets an id (1: at once).
        min_tolerance_px: pixels added (in quadrature) to every keypoint's OKS tolerance, for small, far people.
    """

    max_age: float = 1.0
    min_similarity: float = 0.1
    velocity_weight: float = 0.5
    motion: bool = True
    appearance_weight: float = 0.3
    reid_time: float = 3.0
    reid_similarity: float = 0.55
    min_appearance: float = 0.1
    min_hits: int = 2
    min_tolerance_px: float = 4.0

    @classmethod
    def pose_only(cls, **fields: object) -> "TrackerConfig":
        """The first tracker's behaviour (pose and motion only, an id at first sight, no re-identification, COCO's
        OKS), with ``fields`` set as given."""
        first = dict(appearance_weight=0.0, reid_time=0.0, min_appearance=0.0, min_hits=1, min_tolerance_px=0.0)
        return cls(**{**first, **fields})  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        finite = lambda v: isinstance(v, (int, float)) and math.isfinite(v)  # noqa: E731
        _check("max_age", self.max_age, finite(self.max_age) and self.max_age > 0, "> 0 seconds")
        _check("min_similarity", self.min_similarity, finite(self.min_similarity) and 0 <= self.min_similarity < 1,
               "in [0, 1)")
        _check("velocity_weight", self.velocity_weight, finite(self.velocity_weight) and 0 < self.velocity_weight <= 1,
               "in (0, 1]")
        if not isinstance(self.motion, bool):
            raise ValueError(f"TrackerConfig.motion must be True or False, got {self.motion!r}")
        _check("appearance_weight", self.appearance_weight,
               finite(self.appearance_weight) and 0 <= self.appearance_weight <= 1, "in [0, 1]")
        _check("reid_time", self.reid_time, finite(self.reid_time) and self.reid_time >= 0, ">= 0 seconds")
        _check("reid_similarity", self.reid_similarity,
               finite(self.reid_similarity) and 0 < self.reid_similarity <= 1, "in (0, 1]")
        _check("min_appearance", self.min_appearance, finite(self.min_appearance) and 0 <= self.min_appearance < 1,
               "in [0, 1)")
        _check("min_hits", self.min_hits, isinstance(self.min_hits, int) and 1 <= self.min_hits <= 1000,
               "a whole number of frames in [1, 1000]")
        _check("min_tolerance_px", self.min_tolerance_px,
               finite(self.min_tolerance_px) and 0 <= self.min_tolerance_px <= 1000, "in [0, 1000] pixels")
