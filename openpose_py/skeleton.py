"""The one skeleton table.

A :class:`Skeleton` names the keypoints, the limbs (as keypoint-name pairs, in the order the decoder visits them),
the PAF channels of each limb, the render colours and the COCO-17 correspondence. Every index used elsewhere
(network channel counts, encoders, flip augmentation, decoder, renderer, JSON writers, weights metadata) is derived
from it here and nowhere else.

Glossary of shapes used across the package: B batch, K keypoints, L limbs, H/W map height/width, M peaks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

__all__ = [
    "Limb",
    "Skeleton",
    "COCO_18",
    "BODY_25",
    "MPI_15",
    "COCO_17_NAMES",
    "SKELETONS",
    "get_skeleton",
    "PartTable",
    "HAND_21",
    "FACE_70",
    "PARTS",
]

#: Keypoint names of the COCO dataset (its own order, 17 points).
COCO_17_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)

# OpenPose keypoint name -> COCO dataset keypoint name. Skeletons take their COCO-17 reorder from this.
_OPENPOSE_TO_COCO = {
    "Nose": "nose", "LEye": "left_eye", "REye": "right_eye", "LEar": "left_ear", "REar": "right_ear",
    "LShoulder": "left_shoulder", "RShoulder": "right_shoulder", "LElbow": "left_elbow", "RElbow": "right_elbow",
    "LWrist": "left_wrist", "RWrist": "right_wrist", "LHip": "left_hip", "RHip": "right_hip",
    "LKnee": "left_knee", "RKnee": "right_knee", "LAnkle": "left_ankle", "RAnkle": "right_ankle",
}

# Per-keypoint OKS sigmas by OpenPose name: COCO's published values for its 17 points; the points COCO lacks take the
# sigma of the COCO part they stand for (Neck and MPI's Head like the shoulders, MidHip and Chest like the hips) and
# BODY_25's feet take COCO-WholeBody's foot sigmas. Similarity (tracking) and OKS for every skeleton come from here.
_OKS_SIGMAS = {
    "Nose": 0.026, "LEye": 0.025, "REye": 0.025, "LEar": 0.035, "REar": 0.035, "LShoulder": 0.079,
    "RShoulder": 0.079, "LElbow": 0.072, "RElbow": 0.072, "LWrist": 0.062, "RWrist": 0.062, "LHip": 0.107,
    "RHip": 0.107, "LKnee": 0.087, "RKnee": 0.087, "LAnkle": 0.089, "RAnkle": 0.089,
    "Neck": 0.079, "Head": 0.079, "MidHip": 0.107, "Chest": 0.107,
    "LBigToe": 0.068, "RBigToe": 0.068, "LSmallToe": 0.066, "RSmallToe": 0.066, "LHeel": 0.066, "RHeel": 0.066,
}


@dataclass(frozen=True, slots=True)
class Limb:
    """A connection A->B between two keypoints, with the PAF channels holding its x and y components."""

    a: int
    b: int
    paf_x: int
    paf_y: int
    redundant: bool = False  # an extra link: never starts a person, never rendered


@dataclass(frozen=True)
class Skeleton:
    """A keypoint set with its limbs, PAF layout, colours and symmetry.

    Attributes:
        name: registry name (``"COCO_18"`` ...).
        keypoints: keypoint names in network (heatmap channel) order.
        limbs: ``(A name, B name, paf x channel, paf y channel)`` in decoder visiting order.
        redundant: limbs (as name pairs) that only reinforce a person already started.
        colors: per-keypoint render colour, BGR; a limb is drawn in the colour of its B end (as OpenPose does).
        uncounted: keypoints that do not count toward a person's minimum number of parts (BODY_25 feet).
        synthetic: keypoints that training data derives from others (COCO Neck = shoulder midpoint), with parents.
    """

    name: str
    keypoints: tuple[str, ...]
    limb_table: tuple[tuple[str, str, int, int], ...]
    redundant: frozenset[tuple[str, str]] = frozenset()
    colors: tuple[tuple[int, int, int], ...] = ()
    uncounted: frozenset[str] = frozenset()
    synthetic: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    def __post_init__(self) -> None:
        names = set(self.keypoints)
        if len(names) != len(self.keypoints):
            raise ValueError(f"{self.name}: duplicate keypoint names")
        channels: list[int] = []
        for a, b, px, py in self.limb_table:
            if a not in names or b not in names:
                raise ValueError(f"{self.name}: limb {a}-{b} names an unknown keypoint")
            channels += [px, py]
        if sorted(channels) != list(range(2 * len(self.limb_table))):
            raise ValueError(f"{self.name}: PAF channels must cover 0..{2 * len(self.limb_table) - 1} once each")
        if self.colors and len(self.colors) != len(self.keypoints):
            raise ValueError(f"{self.name}: one colour per keypoint expected")

    # ---- sizes -------------------------------------------------------------------------------------------------
    @property
    def num_keypoints(self) -> int:
        return len(self.keypoints)

    @property
    def num_heatmaps(self) -> int:
        """Heatmap channels the networks output: one per keypoint plus background (last)."""
        return len(self.keypoints) + 1

    @property
    def num_limbs(self) -> int:
        return len(self.limb_table)

    @property
    def num_pafs(self) -> int:
        return 2 * len(self.limb_table)

    # ---- derived index tables ------------------------------------------------------------------------------------
    def index(self, name: str) -> int:
        """The position of keypoint ``name``; :class:`ValueError` naming the known ones for any other name."""
        try:
            return self.keypoints.index(name)
        except ValueError:
            raise ValueError(f"unknown {self.name} keypoint {name!r}; known: {', '.join(self.keypoints)}") from None

    @cached_property
    def limbs(self) -> tuple[Limb, ...]:
        return tuple(
            Limb(self.index(a), self.index(b), px, py, (a, b) in self.redundant) for a, b, px, py in self.limb_table
        )

    @cached_property
    def flip_keypoints(self) -> tuple[int, ...]:
        """Permutation of keypoint indices under a horizontal flip (left <-> right names)."""
        return tuple(self.index(_mirror_name(n)) if _mirror_name(n) in self.keypoints else i
                     for i, n in enumerate(self.keypoints))

    @cached_property
    def flip_limbs(self) -> tuple[int, ...]:
        """Permutation of limb indices under a horizontal flip."""
        lookup = {(lb.a, lb.b): i for i, lb in enumerate(self.limbs)}
        fk = self.flip_keypoints
        out = []
        for lb in self.limbs:
            key = (fk[lb.a], fk[lb.b])
            if key not in lookup:
                raise ValueError(f"{self.name}: limb {self.keypoints[lb.a]}-{self.keypoints[lb.b]} has no mirror")
            out.append(lookup[key])
        return tuple(out)

    @cached_property
    def flip_heatmap_channels(self) -> tuple[int, ...]:
        """Permutation of the K+1 heatmap channels under a horizontal flip (background stays)."""
        return self.flip_keypoints + (self.num_keypoints,)

    @cached_property
    def flip_paf_channels(self) -> tuple[int, ...]:
        """Permutation of the 2L PAF channels under a horizontal flip. The x components must also be negated."""
        perm = [0] * self.num_pafs
        for i, j in enumerate(self.flip_limbs):
            perm[self.limbs[i].paf_x] = self.limbs[j].paf_x
            perm[self.limbs[i].paf_y] = self.limbs[j].paf_y
        return tuple(perm)

    @cached_property
    def limb_a(self) -> tuple[int, ...]:
        """Per limb, the keypoint index of its first end (A of A->B)."""
        return tuple(lb.a for lb in self.limbs)

    @cached_property
    def limb_b(self) -> tuple[int, ...]:
        """Per limb, the keypoint index of its second end (B of A->B)."""
        return tuple(lb.b for lb in self.limbs)

    @cached_property
    def paf_x_channels(self) -> tuple[int, ...]:
        return tuple(lb.paf_x for lb in self.limbs)

    @cached_property
    def paf_y_channels(self) -> tuple[int, ...]:
        return tuple(lb.paf_y for lb in self.limbs)

    @cached_property
    def render_limbs(self) -> tuple[Limb, ...]:
        return tuple(lb for lb in self.limbs if not lb.redundant)

    @cached_property
    def counted(self) -> tuple[bool, ...]:
        """Per keypoint: does it count toward a person's minimum number of parts."""
        return tuple(n not in self.uncounted for n in self.keypoints)

    @cached_property
    def coco17(self) -> tuple[int, ...] | None:
        """Skeleton index for each COCO-17 slot, or None if the skeleton lacks a COCO keypoint."""
        by_coco = {_OPENPOSE_TO_COCO[n]: i for i, n in enumerate(self.keypoints) if n in _OPENPOSE_TO_COCO}
        if not all(n in by_coco for n in COCO_17_NAMES):
            return None
        return tuple(by_coco[n] for n in COCO_17_NAMES)

    @cached_property
    def oks_sigmas(self) -> np.ndarray:
        """(K,) float64 OKS sigma per keypoint (COCO's values, and the closest COCO part's for the others)."""
        missing = [n for n in self.keypoints if n not in _OKS_SIGMAS]
        if missing:
            raise ValueError(f"{self.name}: no OKS sigma for {', '.join(missing)}")
        return np.array([_OKS_SIGMAS[n] for n in self.keypoints], dtype=np.float64)

    def from_coco17(self, coco: np.ndarray) -> np.ndarray:
        """(..., 17, 3) COCO keypoints (x, y, v) -> (..., K, 3) in this skeleton's order.

        Keypoints the skeleton has but COCO lacks are synthesised from their parents (Neck = shoulder midpoint) when all
        parents are present (v > 0), else left at zero; visibility is copied (a synthesised point gets the minimum).
        """
        order = self.coco17
        if order is None:
            raise ValueError(f"{self.name} has no COCO-17 correspondence")
        coco = np.asarray(coco, dtype=np.float32)
        out = np.zeros((*coco.shape[:-2], self.num_keypoints, 3), dtype=np.float32)
        out[..., list(order), :] = coco
        for child, parents in self.synthetic_parents.items():
            if child in order:
                continue
            pts = out[..., list(parents), :]
            ok = (pts[..., 2] > 0).all(axis=-1)
            out[..., child, :2] = np.where(ok[..., None], pts[..., :2].mean(axis=-2), 0.0)
            out[..., child, 2] = np.where(ok, pts[..., 2].min(axis=-1), 0.0)
        return out

    @cached_property
    def synthetic_parents(self) -> dict[int, tuple[int, ...]]:
        return {self.index(n): tuple(self.index(p) for p in parents) for n, parents in self.synthetic}

    def __repr__(self) -> str:
        return f"Skeleton({self.name}: {self.num_keypoints} keypoints, {self.num_limbs} limbs)"

    def __reduce__(self):  # pickles by name: skeletons are registry singletons
        return (get_skeleton, (self.name,))


def _mirror_name(name: str) -> str:
    if name[:1] == "R" and name[1:2].isupper():
        return "L" + name[1:]
    if name[:1] == "L" and name[1:2].isupper():
        return "R" + name[1:]
    return name


def _rgb_to_bgr(rgb: tuple[int, ...]) -> tuple[tuple[int, int, int], ...]:
    return tuple((rgb[i + 2], rgb[i + 1], rgb[i]) for i in range(0, len(rgb), 3))


_COCO_18_NAMES = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip", "RKnee", "RAnkle",
    "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
)

COCO_18 = Skeleton(
    name="COCO_18",
    keypoints=_COCO_18_NAMES,
    limb_table=(
        ("Neck", "RShoulder", 12, 13), ("Neck", "LShoulder", 20, 21), ("RShoulder", "RElbow", 14, 15),
        ("RElbow", "RWrist", 16, 17), ("LShoulder", "LElbow", 22, 23), ("LElbow", "LWrist", 24, 25),
        ("Neck", "RHip", 0, 1), ("RHip", "RKnee", 2, 3), ("RKnee", "RAnkle", 4, 5), ("Neck", "LHip", 6, 7),
        ("LHip", "LKnee", 8, 9), ("LKnee", "LAnkle", 10, 11), ("Neck", "Nose", 28, 29), ("Nose", "REye", 30, 31),
        ("REye", "REar", 34, 35), ("Nose", "LEye", 32, 33), ("LEye", "LEar", 36, 37),
        ("RShoulder", "REar", 18, 19), ("LShoulder", "LEar", 26, 27),
    ),
    redundant=frozenset({("RShoulder", "REar"), ("LShoulder", "LEar")}),
    colors=_rgb_to_bgr((
        255, 0, 85, 255, 0, 0, 255, 85, 0, 255, 170, 0, 255, 255, 0, 170, 255, 0, 85, 255, 0, 0, 255, 0, 0, 255, 85,
        0, 255, 170, 0, 255, 255, 0, 170, 255, 0, 85, 255, 0, 0, 255, 255, 0, 170, 170, 0, 255, 255, 0, 255, 85, 0,
        255,
    )),
    synthetic=(("Neck", ("RShoulder", "LShoulder")),),
)

BODY_25 = Skeleton(
    name="BODY_25",
    keypoints=(
        "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "MidHip", "RHip",
        "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar", "LBigToe", "LSmallToe",
        "LHeel", "RBigToe", "RSmallToe", "RHeel",
    ),
    limb_table=(
        ("Neck", "MidHip", 0, 1), ("Neck", "RShoulder", 14, 15), ("Neck", "LShoulder", 22, 23),
        ("RShoulder", "RElbow", 16, 17), ("RElbow", "RWrist", 18, 19), ("LShoulder", "LElbow", 24, 25),
        ("LElbow", "LWrist", 26, 27), ("MidHip", "RHip", 6, 7), ("RHip", "RKnee", 2, 3), ("RKnee", "RAnkle", 4, 5),
        ("MidHip", "LHip", 8, 9), ("LHip", "LKnee", 10, 11), ("LKnee", "LAnkle", 12, 13), ("Neck", "Nose", 30, 31),
        ("Nose", "REye", 32, 33), ("REye", "REar", 36, 37), ("Nose", "LEye", 34, 35), ("LEye", "LEar", 38, 39),
        ("RShoulder", "REar", 20, 21), ("LShoulder", "LEar", 28, 29), ("LAnkle", "LBigToe", 40, 41),
        ("LBigToe", "LSmallToe", 42, 43), ("LAnkle", "LHeel", 44, 45), ("RAnkle", "RBigToe", 46, 47),
        ("RBigToe", "RSmallToe", 48, 49), ("RAnkle", "RHeel", 50, 51),
    ),
    redundant=frozenset({("RShoulder", "REar"), ("LShoulder", "LEar")}),
    colors=_rgb_to_bgr((
        255, 0, 85, 255, 0, 0, 255, 85, 0, 255, 170, 0, 255, 255, 0, 170, 255, 0, 85, 255, 0, 0, 255, 0, 255, 0, 0,
        0, 255, 85, 0, 255, 170, 0, 255, 255, 0, 170, 255, 0, 85, 255, 0, 0, 255, 255, 0, 170, 170, 0, 255, 255, 0,
        255, 85, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 255, 255, 0, 255, 255, 0, 255, 255,
    )),
    uncounted=frozenset({"LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel"}),
    synthetic=(("Neck", ("RShoulder", "LShoulder")), ("MidHip", ("RHip", "LHip"))),
)

MPI_15 = Skeleton(
    name="MPI_15",
    keypoints=(
        "Head", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip", "RKnee", "RAnkle",
        "LHip", "LKnee", "LAnkle", "Chest",
    ),
    limb_table=tuple(
        (a, b, 2 * i, 2 * i + 1)
        for i, (a, b) in enumerate((
            ("Head", "Neck"), ("Neck", "RShoulder"), ("RShoulder", "RElbow"), ("RElbow", "RWrist"),
            ("Neck", "LShoulder"), ("LShoulder", "LElbow"), ("LElbow", "LWrist"), ("Neck", "Chest"),
            ("Chest", "RHip"), ("RHip", "RKnee"), ("RKnee", "RAnkle"), ("Chest", "LHip"), ("LHip", "LKnee"),
            ("LKnee", "LAnkle"),
        ))
    ),
    colors=_rgb_to_bgr((
        255, 0, 85, 255, 0, 0, 255, 85, 0, 255, 170, 0, 255, 255, 0, 170, 255, 0, 85, 255, 0, 43, 255, 0, 0, 255, 0,
        0, 255, 85, 0, 255, 170, 0, 255, 255, 0, 170, 255, 0, 85, 255, 0, 0, 255,
    )),
)

SKELETONS: dict[str, Skeleton] = {s.name: s for s in (COCO_18, BODY_25, MPI_15)}


def get_skeleton(name: str) -> Skeleton:
    """Look a skeleton up by name (case-insensitive, ``-`` or ``_``)."""
    key = name.upper().replace("-", "_")
    if key not in SKELETONS:
        raise KeyError(f"unknown skeleton {name!r}; known: {', '.join(SKELETONS)}")
    return SKELETONS[key]


@dataclass(frozen=True)
class PartTable:
    """The keypoints of a part that OpenPose finds beside the body (a hand, the face): names in OpenPose's order,
    the edges its renderer draws (index pairs) and a BGR colour per keypoint (an edge takes its second end's)."""

    name: str
    keypoints: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    colors: tuple[tuple[int, int, int], ...]

    @property
    def num_keypoints(self) -> int:
        return len(self.keypoints)


def _chains(*chains: tuple[int, ...], closed: bool = False) -> tuple[tuple[int, int], ...]:
    edges = [(c[i], c[i + 1]) for c in chains for i in range(len(c) - 1)]
    return tuple(edges + ([(c[-1], c[0]) for c in chains] if closed else []))


_FINGERS = ("Thumb", "Index", "Middle", "Ring", "Pinky")

#: OpenPose's hand (= MediaPipe's): wrist, then each finger base to tip; edges from the wrist along every finger.
HAND_21 = PartTable(
    name="HAND_21",
    keypoints=("Wrist",) + tuple(f"{f}{j}" for f in _FINGERS for j in range(1, 5)),
    edges=_chains(*((0, 4 * f + 1, 4 * f + 2, 4 * f + 3, 4 * f + 4) for f in range(5))),
    colors=_rgb_to_bgr((
        100, 100, 100, 100, 0, 0, 150, 0, 0, 200, 0, 0, 255, 0, 0, 100, 100, 0, 150, 150, 0, 200, 200, 0, 255, 255, 0,
        0, 100, 50, 0, 150, 75, 0, 200, 100, 0, 255, 125, 0, 50, 100, 0, 75, 150, 0, 100, 200, 0, 125, 255, 100, 0,
        100, 150, 0, 150, 200, 0, 200, 255, 0, 255,
    )),
)

#: OpenPose's face: the 68 iBUG points (jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, lips 48-67; the person's
#: right side first), then the pupils of the right (68) and left (69) eye. Drawn white, as OpenPose does.
FACE_70 = PartTable(
    name="FACE_70",
    keypoints=tuple(f"Face{i}" for i in range(68)) + ("RPupil", "LPupil"),
    edges=_chains(tuple(range(17)), tuple(range(17, 22)), tuple(range(22, 27)), tuple(range(27, 31)),
                  tuple(range(31, 36))) + _chains(tuple(range(36, 42)), tuple(range(42, 48)), tuple(range(48, 60)),
                                                  tuple(range(60, 68)), closed=True),
    colors=((255, 255, 255),) * 70,
)

#: Part tables by their Person field.
PARTS: dict[str, PartTable] = {"left_hand": HAND_21, "right_hand": HAND_21, "face": FACE_70}
