"""What the parts stage finds, and its settings (frozen; the CLI builds one from --hand, --face, --feet)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..checks import check_all

__all__ = ["PartsConfig"]


@dataclass(frozen=True, slots=True)
class PartsConfig:
    """Which parts to find beside the body, and how.

    Attributes:
        hands: both hands of every person (21 points each, OpenPose's order), from the body's wrists.
        face: the face of every person (70 points: 68 iBUG landmarks and the two pupils), from the head points.
        feet: bodies in BODY_25 order (MidHip from the hips; heels and big toes from MediaPipe's pose network).
        min_person_size: people whose body keypoints span fewer pixels than this (the longer side of their box) get
            no parts (their parts are present but every point is missing): their hands and faces are too small.
        hand_passes: 1 takes each hand crop once, turned along the forearm; 2 crops again around the first pass's
            hand, turned so the wrist-to-middle-finger line points up (MediaPipe's own tracking crop).
        face_passes: the same for faces (the second crop is levelled by the eye corners); for hands and faces alike the
            second pass runs only where the first crop was clearly unlike the second's.
        presence: the networks' presence score under which a hand or a face counts as not there (all its points
            missing).
        iris: pupils from MediaPipe's iris network (else the pupils are missing).
        max_people: parts for at most this many people per frame, the largest first (the others' parts are all
            missing), which bounds the time a crowded frame takes; None: everyone large enough.
        threads: CPU threads of the landmark networks (None: OpenVINO's choice).
        batch: the most crops in one network call (bounds memory on a crowded frame).
    """

    hands: bool = False
    face: bool = False
    feet: bool = False
    min_person_size: float = 40.0
    hand_passes: int = 2
    face_passes: int = 2
    presence: float = 0.5
    iris: bool = True
    max_people: int | None = 16
    threads: int | None = None
    batch: int = 32

    def __post_init__(self) -> None:
        check_all((
            (math.isfinite(self.min_person_size) and self.min_person_size >= 0,
             f"PartsConfig.min_person_size must be >= 0 pixels, got {self.min_person_size}"),
            *((getattr(self, name) in (1, 2), f"PartsConfig.{name} must be 1 or 2, got {getattr(self, name)}")
              for name in ("hand_passes", "face_passes")),
            (0.0 <= self.presence < 1.0, f"PartsConfig.presence must be in [0, 1), got {self.presence}"),
            (self.max_people is None or self.max_people >= 0,
             f"PartsConfig.max_people must be >= 0 or None, got {self.max_people}"),
            (self.batch >= 1, f"PartsConfig.batch must be at least 1, got {self.batch}"),
            (self.threads is None or self.threads >= 1, f"PartsConfig.threads must be at least 1, got {self.threads}"),
        ))

    @classmethod
    def choose(cls, parts: "PartsConfig | None", *, hands: bool = False, face: bool = False,
               feet: bool = False) -> "PartsConfig":
        """``parts`` itself, or a configuration of the defaults with the parts named by flags (not both)."""
        if parts is None:
            return cls(hands=hands, face=face, feet=feet)
        if hands or face or feet:
            raise ValueError("give either parts=PartsConfig(...) or hands/face/feet, not both")
        if not isinstance(parts, PartsConfig):
            raise TypeError(f"parts must be a PartsConfig, got {parts!r}")
        return parts

    @property
    def any(self) -> bool:
        """Whether any part is asked for."""
        return self.hands or self.face or self.feet
