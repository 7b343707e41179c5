"""How :class:`~openpose_py.track.PoseTracker` matches, confirms, keeps and ends tracks: :class:`TrackerConfig`,
every field checked at construction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from ..checks import check_all

__all__ = ["TrackerConfig"]


def _is_number(value: object) -> bool:
    """A finite int or float (a bool is neither here)."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


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
        max_gap: seconds between two frames a track was seen in (missed in those between) over which a file's results
            get the person back in the frames between, interpolated (:mod:`.gaps`; 0: off; a live stream: never).
        drop_duplicates: a person that is only a piece of another found twice (every point on the other's,
            :func:`~openpose_py.track.similarity.duplicates`) gets no id and starts no track.
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
    max_gap: float = 0.15
    drop_duplicates: bool = True

    @classmethod
    def pose_only(cls, **fields: object) -> "TrackerConfig":
        """The first tracker's behaviour (pose and motion only, an id at first sight, no re-identification, COCO's
        OKS), with ``fields`` set as given."""
        first = dict(appearance_weight=0.0, reid_time=0.0, min_appearance=0.0, min_hits=1, min_tolerance_px=0.0,
                     max_gap=0.0, drop_duplicates=False)
        return cls(**{**first, **fields})  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        checks = [(_is_number(v := getattr(self, name)) and ok(v), f"TrackerConfig.{name} must be {want}, got {v!r}")
                  for name, ok, want in _RULES]
        checks.insert(3, (isinstance(self.motion, bool),
                          f"TrackerConfig.motion must be True or False, got {self.motion!r}"))
        checks.append((isinstance(self.drop_duplicates, bool),
                       f"TrackerConfig.drop_duplicates must be True or False, got {self.drop_duplicates!r}"))
        check_all(checks)


#: (field, condition on a finite number, what it must be) of every numeric TrackerConfig field, in the order checked
#: (``motion``, a bool, is checked after ``velocity_weight``, ``drop_duplicates`` last).
_RULES: tuple[tuple[str, Callable[[float], bool], str], ...] = (
    ("max_age", lambda v: v > 0, "> 0 seconds"),
    ("min_similarity", lambda v: 0 <= v < 1, "in [0, 1)"),
    ("velocity_weight", lambda v: 0 < v <= 1, "in (0, 1]"),
    ("appearance_weight", lambda v: 0 <= v <= 1, "in [0, 1]"),
    ("reid_time", lambda v: v >= 0, ">= 0 seconds"),
    ("reid_similarity", lambda v: 0 < v <= 1, "in (0, 1]"),
    ("min_appearance", lambda v: 0 <= v < 1, "in [0, 1)"),
    ("min_hits", lambda v: isinstance(v, int) and 1 <= v <= 1000, "a whole number of frames in [1, 1000]"),
    ("min_tolerance_px", lambda v: 0 <= v <= 1000, "in [0, 1000] pixels"),
    ("max_gap", lambda v: 0 <= v <= 10, "in [0, 10] seconds"),
)
