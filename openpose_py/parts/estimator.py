"""The parts stage: hands, faces and feet for the people a body network found, and the given-boxes mode.

Every hand crop of a frame (both hands of everyone) goes through the hand network in one call, every face through
the face network in one, every eye through the iris network in one, every person through the pose network in one
(in batches of ``PartsConfig.batch`` crops, which bounds memory on a crowded frame).
"""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np

from ..images import as_bgr
from ..results import Person
from ..skeleton import BODY_25, Skeleton
from .boxes import box_crops, face_crops, hand_crops, person_sizes
from .config import PartsConfig
from .face import FACE_POINTS, find_faces
from .feet import find_feet, to_body25
from .hands import HAND_POINTS, find_hands
from .networks import LandmarkNetwork
from .passes import Crops

__all__ = ["PartsEstimator"]

log = logging.getLogger(__name__)

_HAND_BOX_SCALE = 2.0  # a given hand box is cropped at twice its longer side (MediaPipe's hand crop)
_FACE_BOX_SCALE = 1.5  # and a face box at 1.5 times (MediaPipe's face crop)


class PartsEstimator:
    """Hands, faces and feet from bodies, or in given boxes. The networks of the parts the configuration asks for load
    at construction; any other (given boxes with those parts off) the first time it is needed."""

    def __init__(self, config: PartsConfig = PartsConfig()) -> None:
        if not isinstance(config, PartsConfig):
            raise TypeError(f"config must be a PartsConfig, got {config!r}")
        self.config = config
        self._networks: dict[str, LandmarkNetwork] = {}
        # the parts asked for load now, so a missing or corrupt file is an error before the first picture
        wanted = (["hand"] if config.hands else []) + (["face"] if config.face else []) + \
            (["iris"] if config.face and config.iris else []) + (["pose"] if config.feet else [])
        for name in wanted:
            self.network(name)

    def skeleton(self, body: Skeleton) -> Skeleton:
        """The skeleton of the people :meth:`add_parts` returns for bodies of ``body``: BODY_25 with feet."""
        return BODY_25 if self.config.feet else body

    def network(self, name: str) -> LandmarkNetwork:
        """The landmark network ``name`` (``hand``, ``face``, ``iris``, ``pose``), loaded once."""
        if name not in self._networks:
            self._networks[name] = LandmarkNetwork(name, threads=self.config.threads)
        return self._networks[name]

    # ---- given boxes -------------------------------------------------------------------------------------------------
    def hands_in_boxes(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(N, 21, 3) x, y, score in image pixels for N hand boxes ``[x, y, w, h]``; NaN where no hand is found or
        the box is unusable (NaN, no area, outside the image). Raises ``BoxError`` for an array of the wrong shape."""
        bgr = _bgr(image)
        crops = box_crops(boxes, (bgr.shape[1], bgr.shape[0]), _HAND_BOX_SCALE, "hand")
        return _valid_only(self._hands(bgr), crops, HAND_POINTS)

    def faces_in_boxes(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(N, 70, 3) x, y, score in image pixels for N face boxes ``[x, y, w, h]``; NaN as :meth:`hands_in_boxes`."""
        bgr = _bgr(image)
        crops = box_crops(boxes, (bgr.shape[1], bgr.shape[0]), _FACE_BOX_SCALE, "face")
        return _valid_only(self._faces(bgr), crops, FACE_POINTS)

    # ---- from bodies -------------------------------------------------------------------------------------------------
    def add_parts(self, image: np.ndarray, people: list[Person]) -> list[Person]:
        """``people`` with the parts the configuration asks for (BODY_25 bodies when it asks for feet). People
        smaller than ``min_person_size``, and those beyond the ``max_people`` largest, get their parts with every
        point missing."""
        cfg = self.config
        if not cfg.any or not people:
            return [to_body25(p) for p in people] if cfg.feet else list(people)
        bgr = _bgr(image)
        sizes = person_sizes(people)
        big = np.flatnonzero(sizes >= cfg.min_person_size)
        if cfg.max_people is not None and len(big) > cfg.max_people:
            big = np.sort(big[np.argsort(-sizes[big], kind="stable")[:cfg.max_people]])
        chosen = [people[i] for i in big]
        parts: dict[str, np.ndarray] = {}
        if cfg.hands:
            both = _valid_only(self._hands(bgr), _concat(hand_crops(chosen, "L"), hand_crops(chosen, "R")),
                               HAND_POINTS)
            parts["left_hand"], parts["right_hand"] = both[:len(chosen)], both[len(chosen):]
        if cfg.face:
            parts["face"] = _valid_only(self._faces(bgr), face_crops(chosen), FACE_POINTS)
        feet = find_feet(self.network("pose"), bgr, chosen, presence=cfg.presence, batch=cfg.batch) if cfg.feet \
            else None
        out = []
        row = {int(i): r for r, i in enumerate(big)}
        for i, person in enumerate(people):
            r = row.get(i)
            person = person.with_parts(**{name: np.full((len(a[0]), 3), np.nan) if r is None else a[r]
                                          for name, a in parts.items()})
            out.append(to_body25(person, None if feet is None or r is None else feet[r]) if cfg.feet else person)
        return out

    # ---- networks over crops -----------------------------------------------------------------------------------------
    def _hands(self, bgr: np.ndarray) -> Callable[[Crops], np.ndarray]:
        cfg = self.config
        return lambda crops: find_hands(self.network("hand"), bgr, crops, passes=cfg.hand_passes,
                                        presence=cfg.presence, batch=cfg.batch)

    def _faces(self, bgr: np.ndarray) -> Callable[[Crops], np.ndarray]:
        cfg = self.config
        iris = self.network("iris") if cfg.iris else None
        return lambda crops: find_faces(self.network("face"), iris, bgr, crops, passes=cfg.face_passes,
                                        presence=cfg.presence, batch=cfg.batch)


def _bgr(image: np.ndarray) -> np.ndarray:
    """The picture as the crops are cut from it: uint8 BGR, not copied when it already is (the networks take BGR
    crops and swap the channels themselves, :class:`LandmarkNetwork`)."""
    return as_bgr(image)


def _concat(a: Crops, b: Crops) -> Crops:
    return Crops(np.concatenate([a.centres, b.centres]), np.concatenate([a.sizes, b.sizes]),
                 np.concatenate([a.angles, b.angles]))


def _valid_only(run: Callable[[Crops], np.ndarray], crops: Crops, points: int) -> np.ndarray:
    """(N, points, 3): ``run`` on the crops that can be placed (finite centre, positive size), NaN rows elsewhere."""
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(crops.centres).all(axis=1) & np.isfinite(crops.sizes) & (crops.sizes > 1.0)
    out = np.full((len(crops), points, 3), np.nan)
    rows = np.flatnonzero(ok)
    if len(rows):
        out[rows] = run(crops.select(rows))
    return out
