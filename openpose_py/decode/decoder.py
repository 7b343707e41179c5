"""The decoder: (heatmaps, PAFs) of one image -> people, with the reference thresholds as presets."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Literal, NamedTuple, get_args

import numpy as np
import torch
from torch import Tensor

from ..checks import check_choice, check_number
from ..results import Keypoint, Person
from ..skeleton import Skeleton
from .assemble import PartialPerson, assemble
from .cpu_limbs import match_limbs_numpy, score_limbs_numpy
from .fields import DECODER_FIELDS
from .limbs import LimbScoring, match_limbs, score_limbs
from .peaks import Peaks, find_peaks
from .sparse_peaks import find_peaks_numpy

__all__ = ["DecoderConfig", "Decoded", "decode", "PRESETS"]

PersonScore = Literal["sum", "mean", "part_mean", "sum_x_parts"]
Refine = Literal["none", "centroid", "quadratic", "gaussian"]
Engine = Literal["auto", "torch", "numpy"]


@dataclass(frozen=True, slots=True)
class DecoderConfig:
    """Every threshold of the post-processing (defaults: the CVPR'17 demo, with sub-pixel peaks and a faster grid).

    Peaks: ``upsample`` (bicubic factor before the peak search; 1 = on the stride-8 map), ``blur_sigma`` (in
    upsampled pixels), ``neighbourhood`` (4 or 8), ``peak_threshold``, ``refine`` (none|centroid|quadratic),
    ``max_peaks`` (per part, best first; OpenPose C++ keeps 127, which also bounds the work on degenerate maps).
    ``multiscale_peak_threshold`` replaces ``peak_threshold`` when ``PoseEstimator`` decodes the average of several
    scales (None: keep ``peak_threshold``): a part seen at only some scales keeps only that share of its peak, small
    people fading at scale 0.5 and large ones at 2, so the average needs a lower bar (docs/benchmarks.md measures it).
    Limbs: ``paf_samples`` (None = C++'s length-dependent count), ``paf_threshold``, ``min_inlier_ratio``,
    ``distance_prior``, ``inliers_only``, ``short_limb_fraction`` (C++: limbs shorter than sqrt(W H) times this are
    accepted), ``matching`` (greedy|optimal).
    People: ``min_parts``, ``min_mean_score`` (total score / parts), ``person_score`` (how ``Person.score`` is
    reported: ``sum`` of part and limb scores, their ``mean``, ``part_mean`` = mean keypoint score, ``sum_x_parts`` =
    sum times (parts - 1)), ``max_people``.
    """

    peak_threshold: float = 0.1
    multiscale_peak_threshold: float | None = 0.05
    upsample: int = 2
    blur_sigma: float = 0.0
    neighbourhood: int = 8
    refine: Refine = "quadratic"
    refine_radius: int = 3
    max_peaks: int = 64
    paf_samples: int | None = 10
    paf_threshold: float = 0.05
    min_inlier_ratio: float = 0.8
    distance_prior: bool = True
    inliers_only: bool = False
    short_limb_fraction: float | None = 1.0 / 150.0
    matching: Literal["greedy", "optimal"] = "greedy"
    min_parts: int = 4
    min_mean_score: float = 0.4
    person_score: PersonScore = "sum"
    max_people: int | None = None

    def __post_init__(self) -> None:
        check_choice("neighbourhood", self.neighbourhood, (4, 8))
        # a value out of its range would not fail: the decoder would quietly find no one, or people in noise
        for f in DECODER_FIELDS.values():
            check_number(f.name, getattr(self, f.name), f.low, f.high, integer=f.integer, optional=f.optional)
        for name, allowed in (("refine", get_args(Refine)), ("matching", ("greedy", "optimal")),
                              ("person_score", get_args(PersonScore))):
            check_choice(name, getattr(self, name), allowed)

    @classmethod
    def preset(cls, name: str, **overrides) -> "DecoderConfig":
        """A named preset (``default``, ``cvpr2017``, ``openpose-cpp``), with optional field overrides."""
        if name not in PRESETS:
            raise ValueError(f"unknown decoder preset {name!r}; known: {', '.join(PRESETS)}")
        return replace(PRESETS[name], **overrides)

    def replace(self, **changes) -> "DecoderConfig":
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise TypeError(f"unknown DecoderConfig fields: {', '.join(sorted(unknown))}")
        return replace(self, **changes)


PRESETS: dict[str, DecoderConfig] = {
    # The project's default: CVPR'17 limb and person thresholds; 8-neighbour peaks on a 2x map with quadratic sub-pixel
    # refinement; C++'s short-limb rule.
    "default": DecoderConfig(),
    # The CVPR'17 demo: x8 bicubic maps, Gaussian blur sigma 3, 4-neighbour maxima > 0.1, 10 samples > 0.05, 80%.
    "cvpr2017": DecoderConfig(upsample=8, blur_sigma=3.0, neighbourhood=4, refine="none", max_peaks=127,
                              multiscale_peak_threshold=None),
    # OpenPose C++: maps at input resolution, 8-neighbour maxima > 0.05 with centroid refinement, adaptive samples,
    # 95% inliers scored by their mean, at least 3 parts.
    "openpose-cpp": DecoderConfig(
        peak_threshold=0.05, multiscale_peak_threshold=None, upsample=8, blur_sigma=0.0, neighbourhood=8,
        refine="centroid", max_peaks=127,
        paf_samples=None, min_inlier_ratio=0.95, distance_prior=False, inliers_only=True,
        short_limb_fraction=1.0 / 150.0, min_parts=3, person_score="mean",
    ),
}


class Decoded(NamedTuple):
    """People and all peaks of one image, in input pixels."""

    people: list[Person]
    peaks: Peaks


def decode(heatmaps: Tensor, pafs: Tensor, skeleton: Skeleton, config: DecoderConfig, *, stride: float = 8.0,
           content_size: tuple[float, float] | None = None, engine: Engine = "auto") -> Decoded:
    """Decode one image's maps into people.

    Args:
        heatmaps: (K+1, h, w) or (K, h, w) at ``stride`` input pixels per cell (background ignored).
        pafs: (2L, h, w) on the same grid.
        content_size: (width, height) in input pixels of the real image content (without padding), for the limb
            length priors; defaults to the map extent.
        engine: ``numpy`` (CPU maps; the upsampling computed only near possible peaks; not with ``blur_sigma``),
            ``torch`` (any device), or ``auto``: numpy where it applies. Both give the same people (to float rounding).
    """
    k = skeleton.num_keypoints
    if heatmaps.shape[0] not in (k, k + 1) or pafs.shape[0] != skeleton.num_pafs:
        raise ValueError(f"{skeleton.name} needs {k}(+1) heatmaps and {skeleton.num_pafs} PAFs, got "
                         f"{heatmaps.shape[0]} and {pafs.shape[0]}")
    check_choice("engine", engine, get_args(Engine))
    if content_size is None:
        content_size = (heatmaps.shape[2] * stride, heatmaps.shape[1] * stride)
    short = None
    if config.short_limb_fraction is not None:
        short = math.sqrt(content_size[0] * content_size[1]) * config.short_limb_fraction
    scoring = LimbScoring(config.paf_samples, config.paf_threshold, config.min_inlier_ratio, config.distance_prior,
                          config.inliers_only, short)
    cpu = heatmaps.is_cpu and pafs.is_cpu
    if engine == "numpy" and not (cpu and config.blur_sigma == 0):
        raise ValueError("the numpy decoder needs CPU maps and blur_sigma 0")
    if engine == "numpy" or (engine == "auto" and cpu and config.blur_sigma == 0):
        peaks, connections = _candidates_numpy(heatmaps[:k], pafs, stride, skeleton, config, scoring, content_size)
    else:
        peaks, connections = _candidates_torch(heatmaps[:k], pafs, stride, skeleton, config, scoring, content_size)
    if connections is None:
        return Decoded([], peaks)
    peak_scores = peaks.score.tolist()
    partial = assemble(connections, peak_scores, skeleton)
    people = _kept_people(partial, peaks.xy.tolist(), peak_scores, skeleton, config)
    return Decoded(people, peaks)


def _candidates_torch(heatmaps: Tensor, pafs: Tensor, stride: float, skeleton: Skeleton, config: DecoderConfig,
                      scoring: LimbScoring, content_size: tuple[float, float]) -> tuple[Peaks, list | None]:
    """Peaks and matched connections (rows limb, peak A, peak B, score) with torch operations on the maps' device."""
    peaks = find_peaks(
        heatmaps, stride, config.peak_threshold, upsample=config.upsample, blur_sigma=config.blur_sigma,
        neighbourhood=config.neighbourhood, refine=config.refine, refine_radius=config.refine_radius,
        max_peaks=config.max_peaks,
    )
    if len(peaks.part) == 0:
        return peaks, None
    candidates = score_limbs(peaks, pafs, stride, skeleton, scoring, content_size[1])
    return peaks, match_limbs(candidates, config.matching).tolist()


def _candidates_numpy(heatmaps: Tensor, pafs: Tensor, stride: float, skeleton: Skeleton, config: DecoderConfig,
                      scoring: LimbScoring, content_size: tuple[float, float]) -> tuple[Peaks, list | None]:
    """:func:`_candidates_torch` with NumPy on CPU maps (no blur)."""
    part, xy, score = find_peaks_numpy(
        _as_array(heatmaps), stride, config.peak_threshold, upsample=config.upsample,
        neighbourhood=config.neighbourhood, refine=config.refine, refine_radius=config.refine_radius,
        max_peaks=config.max_peaks)
    peaks = Peaks(torch.from_numpy(part), torch.from_numpy(xy), torch.from_numpy(score))
    if len(part) == 0:
        return peaks, None
    scores, index_a, index_b = score_limbs_numpy(part, xy, _as_array(pafs), stride, skeleton, scoring, content_size[1])
    return peaks, list(zip(*match_limbs_numpy(scores, index_a, index_b, config.matching)))


def _as_array(maps: Tensor) -> np.ndarray:
    """A CPU tensor as a float32 array (shared, not copied, when it already is float32 without a gradient)."""
    if maps.requires_grad:
        maps = maps.detach()
    return (maps if maps.dtype == torch.float32 else maps.float()).numpy()


def _kept_people(partial: list[PartialPerson], xy: list[list[float]], peak_scores: list[float], skeleton: Skeleton,
                 config: DecoderConfig) -> list[Person]:
    counted = skeleton.counted
    kept: list[Person] = []
    for p in partial:
        present = [i for i, g in enumerate(p.parts) if g >= 0]
        num_counted = sum(counted[i] for i in present)
        if num_counted < config.min_parts or p.score / len(present) < config.min_mean_score:
            continue
        keypoints = tuple(
            Keypoint(name, xy[g][0], xy[g][1], peak_scores[g]) if g >= 0 else None
            for name, g in zip(skeleton.keypoints, p.parts)
        )
        kept.append(Person(keypoints, _person_score(p, present, peak_scores, config.person_score), skeleton))
    kept.sort(key=lambda person: person.score, reverse=True)
    if config.max_people is not None:
        kept = kept[: config.max_people]
    return kept


def _person_score(p: PartialPerson, present: list[int], peak_scores: list[float], mode: PersonScore) -> float:
    if mode == "sum":
        return p.score
    if mode == "mean":
        return p.score / (len(present) + p.num_limbs)
    if mode == "part_mean":
        return float(np.mean([peak_scores[p.parts[i]] for i in present]))
    if mode == "sum_x_parts":
        return p.score * max(0, len(present) - 1)
    raise ValueError(f"unknown person score {mode!r}")

