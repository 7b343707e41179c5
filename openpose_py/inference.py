"""PoseEstimator: pre-process -> network (multi-scale, flip) -> decode -> image pixels.

Everything that runs a network on pictures (the CLI, the webcam demo, evaluation, benchmarks) goes through this class,
so pre-processing and decoding cannot drift between them.
"""

from __future__ import annotations

import logging
import math
import numbers
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .backends import NetworkRunner, TorchRunner
from .decode.decoder import DecoderConfig
from .limits import DEFAULT_LIMITS, InputLimits
from .models.outputs import StageOutput
from .parts import PartsConfig, PartsEstimator
from .grid import MapGrid
from .images import as_bgr, load_image
from .preprocess import Letterbox, PreprocessSpec, input_geometry, preprocess
from .results import Person
from .skeleton import Skeleton
from .weights import WeightsSpec

__all__ = ["PoseEstimator", "Detection", "NetworkMaps", "GridMaps", "ImageLike"]

log = logging.getLogger(__name__)

ImageLike = np.ndarray | str | Path


@dataclass(frozen=True, slots=True)
class Detection:
    """People and every keypoint candidate (all heatmap peaks) of one image, in source-image pixels; the network's
    maps too when asked for (``detect_batch(..., maps=True)``)."""

    people: list[Person]
    part_candidates: tuple[np.ndarray, ...]  # per keypoint: (M, 3) x, y, score
    maps: NetworkMaps | None = None


@dataclass(frozen=True, slots=True)
class NetworkMaps:
    """The network's final heatmaps (K+1, h, w) and PAFs (2L, h, w) resampled to the source image's pixels.

    ``(h, w)`` is the image's (H, W), or for an image of more than ``InputLimits.max_map_pixels`` pixels a grid
    scaled down evenly to at most that many cells: cell ``(i, j)`` is then centred on image pixel
    ``((j + 0.5) * W / w - 0.5, (i + 0.5) * H / h - 0.5)``. ``image_size`` is the source image's (W, H); None
    means the maps' own grid.
    """

    heatmaps: np.ndarray
    pafs: np.ndarray
    image_size: tuple[int, int] | None = None

    @property
    def cell_size(self) -> tuple[float, float]:
        """(x, y) image pixels per map cell: (1, 1) for maps at full image resolution."""
        h, w = self.heatmaps.shape[-2:]
        if self.image_size is None:
            return 1.0, 1.0
        return self.image_size[0] / w, self.image_size[1] / h


@dataclass(frozen=True, slots=True)
class GridMaps:
    """One image's final maps on the network's own grid, as the decoder reads them: cells ``stride`` input pixels
    wide (:class:`~openpose_py.grid.MapGrid`), the input placed on the image by ``box``
    (``box.to_input`` maps image pixels onto it)."""

    heatmaps: Tensor  # (K+1, h, w)
    pafs: Tensor  # (2L, h, w)
    box: Letterbox
    stride: float


class PoseEstimator:
    """Multi-person pose estimation with a bottom-up (heatmaps + PAFs) network.

    >>> est = PoseEstimator.from_pretrained("lightweight")          # doctest: +SKIP
    >>> people = est(cv2.imread("photo.jpg"))                       # doctest: +SKIP
    """

    def __init__(
        self,
        model: nn.Module,
        spec: WeightsSpec,
        *,
        device: str | torch.device = "cpu",
        height: int | None = None,
        scales: Sequence[float] = (1.0,),
        flip: bool = False,
        decoder: DecoderConfig | str = "default",
        runner: NetworkRunner | None = None,
        limits: InputLimits = DEFAULT_LIMITS,
        parts: PartsConfig | None = None,
    ) -> None:
        """Wrap a loaded network.

        Args:
            model: a network returning ``tuple[StageOutput, ...]``; moved to ``device`` and put in eval mode.
            spec: its weights entry (skeleton and pre-processing).
            height: network input height at scale 1 (default: the entry's).
            scales: input scales whose maps are averaged (multi-scale testing), e.g. (0.5, 1, 1.5, 2).
            flip: also run the horizontally flipped image and average.
            decoder: a :class:`DecoderConfig` or a preset name.
            runner: what runs the network (:func:`openpose_py.backends.make_runner`); default: ``model`` itself in
                torch (:class:`~openpose_py.backends.TorchRunner`).
            limits: bounds on the network input and on maps resampled to the image (:class:`InputLimits`); an image
                that exceeds them is scaled down to fit, and a warning says so once per estimator.
            parts: hands, faces, feet for everyone (:class:`~openpose_py.parts.PartsConfig`; feet: BODY_25 people).
        """
        scales = tuple(scales)  # once: a generator would be used up by the check
        if not scales or not all(isinstance(s, numbers.Real) and not isinstance(s, bool) and 0 < s < math.inf
                                 for s in scales):
            raise ValueError(f"scales must be positive finite numbers, at least one, got {scales}")
        if height is not None and (isinstance(height, bool) or not isinstance(height, numbers.Integral)):
            raise TypeError(f"height must be an integer number of pixels, got {height!r}")
        if not isinstance(decoder, (DecoderConfig, str)):
            raise TypeError(f"decoder must be a DecoderConfig or a preset name, got {decoder!r}")
        if not isinstance(limits, InputLimits):
            raise TypeError(f"limits must be an InputLimits (DEFAULT_LIMITS for the defaults), got {limits!r}")
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.spec = spec
        self.skeleton: Skeleton = spec.skeleton
        self.preprocess_spec: PreprocessSpec = spec.preprocess
        if height is not None:
            if height < self.preprocess_spec.stride:
                raise ValueError(f"height must be at least {self.preprocess_spec.stride}, got {height}")
            self.preprocess_spec = replace(self.preprocess_spec, height=int(height))
        self.scales = tuple(float(s) for s in scales)
        self.flip = bool(flip)
        self.decoder = DecoderConfig.preset(decoder) if isinstance(decoder, str) else decoder
        # the maps decoded are an average over scales when there are several (see DecoderConfig)
        self._map_decoder = self.decoder
        if len(self.scales) > 1 and self.decoder.multiscale_peak_threshold is not None:
            self._map_decoder = replace(self.decoder, peak_threshold=self.decoder.multiscale_peak_threshold)
        self._runner: NetworkRunner = runner if runner is not None else TorchRunner(self.model)
        self.limits = limits
        self.parts = PartsEstimator(parts if parts is not None else PartsConfig())
        self._warned: set[str] = set()
        # a mirrored PAF points the other way in x
        self._paf_flip_sign = torch.ones(self.skeleton.num_pafs, 1, 1)
        self._paf_flip_sign[list(self.skeleton.paf_x_channels)] = -1.0

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path = "lightweight",
        *,
        device: str | torch.device = "cpu",
        height: int | None = None,
        scales: Sequence[float] = (1.0,),
        flip: bool = False,
        decoder: DecoderConfig | str = "default",
        weights: str | Path | None = None,
        architecture: str | None = None,
        backend: str = "auto",
        threads: int | None = None,
        limits: InputLimits = DEFAULT_LIMITS,
        hands: bool = False,
        face: bool = False,
        feet: bool = False,
        parts: PartsConfig | None = None,
    ) -> "PoseEstimator":
        """Load registered weights by name (or a weights file by path) and wrap them.

        Weights are found as :mod:`openpose_py.weights.store` describes: an explicit path (``weights=``),
        ``$OPENPOSE_PY_WEIGHTS_DIR``, the files shipped with the package, the user cache, then a download.
        ``backend`` runs the network through ``torch`` or, on the CPU, ``onnxruntime``, ``openvino`` or
        ``openvino-int8``; ``auto`` (the default) picks the fastest of them that keeps float32 accuracy (see
        :mod:`openpose_py.backends`). ``threads`` sets the CPU threads of the non-torch backends. ``limits`` bounds
        the work one image can cause (:class:`InputLimits`). ``hands``, ``face`` and ``feet`` add those parts to
        every person (``parts``, a :class:`~openpose_py.parts.PartsConfig`, sets them with all their settings).
        """
        from .backends import make_runner
        from .weights import load_model

        parts = PartsConfig.choose(parts, hands=hands, face=face, feet=feet)
        model, spec = load_model(weights if weights is not None else name_or_path, device=device,
                                 architecture=architecture)
        runner = make_runner(backend, model, spec, device=device, threads=threads, weights=weights)
        return cls(model, spec, device=device, height=height, scales=scales, flip=flip, decoder=decoder, runner=runner,
                   limits=limits, parts=parts)

    def with_decoder(self, decoder: DecoderConfig) -> "PoseEstimator":
        """The same network (shared, not copied) with another post-processing configuration."""
        return PoseEstimator(self.model, self.spec, device=self.device, height=self.preprocess_spec.height,
                             scales=self.scales, flip=self.flip, decoder=decoder, runner=self._runner,
                             limits=self.limits, parts=self.parts.config)

    # ---- public API ------------------------------------------------------------------------------------------------
    def __call__(self, image: ImageLike) -> list[Person]:
        """People in one image (BGR array as OpenCV gives it, or a path), in source-image pixels, best first."""
        return self.detect(image).people

    def detect(self, image: ImageLike) -> Detection:
        """People and all keypoint candidates of one image."""
        return self.detect_batch([image])[0]

    def predict_batch(self, images: Sequence[ImageLike]) -> list[list[Person]]:
        """People in each image of a list (arrays or paths); images whose inputs have the same size run through the
        network together.

        Raises:
            TypeError: ``images`` is one image (an array, a path or a string) rather than a sequence of them.
        """
        return [d.people for d in self.detect_batch(images)]

    def detect_batch(self, images: Sequence[ImageLike], *, maps: bool = False) -> list[Detection]:
        """:meth:`detect` for a list of images (arrays or paths), batched through the network; ``maps`` also
        returns each image's :meth:`network_output` from the same network pass.

        Raises:
            TypeError: ``images`` is one image (an array, a path or a string) rather than a sequence of them.
        """
        if isinstance(images, (np.ndarray, str, bytes, Path)):
            raise TypeError(f"expected a list of images (arrays or paths), got one {type(images).__name__}; pass "
                            "[image] for a single image, or list(stack) for an (N, H, W, 3) array")
        pictures = [_as_image(im) for im in images]
        grids = self._grid_maps(pictures)
        detections = [self._decode(g) for g in grids]
        if self.parts.config.any:
            detections = [replace(d, people=self.parts.add_parts(im, d.people)) for d, im in zip(detections, pictures)]
        if maps:
            detections = [replace(d, maps=self._image_maps(g)) for d, g in zip(detections, grids)]
        return detections

    def hands_in_boxes(self, image: ImageLike, boxes: np.ndarray) -> np.ndarray:
        """(N, 21, 3) hand points in (N, 4) given boxes ``[x, y, w, h]``: :meth:`PartsEstimator.hands_in_boxes`."""
        return self.parts.hands_in_boxes(_as_image(image), boxes)

    def faces_in_boxes(self, image: ImageLike, boxes: np.ndarray) -> np.ndarray:
        """(N, 70, 3) face points in (N, 4) given boxes ``[x, y, w, h]``: :meth:`PartsEstimator.faces_in_boxes`."""
        return self.parts.faces_in_boxes(_as_image(image), boxes)

    def network_grid(self, image: ImageLike) -> GridMaps:
        """The final heatmaps and PAFs on the network's grid, not resampled: to sample a few points as the decoder
        does (:mod:`openpose_py.response`)."""
        return self._grid_maps([_as_image(image)])[0]

    def network_output(self, image: ImageLike) -> NetworkMaps:
        """The final heatmaps and PAFs resampled onto the source image's pixel grid (for debugging and plots), or
        onto a coarser grid for an image over ``limits.max_map_pixels`` (see :class:`NetworkMaps`)."""
        return self._image_maps(self._grid_maps([_as_image(image)])[0])

    # ---- internals -------------------------------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        """The name of the backend that runs the network (``torch``, ``openvino-int8``...)."""
        return self._runner.name

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        """Warn about ``key`` once per estimator (a video would repeat it every frame); later, only at debug level."""
        level = logging.DEBUG if key in self._warned else logging.WARNING
        self._warned.add(key)
        log.log(level, message, *args)

    def _image_maps(self, grid: GridMaps) -> NetworkMaps:
        """One image's grid maps resampled onto its source image's pixel grid, or a grid scaled down to the map
        limit."""
        w, h = grid.box.image_size
        gw, gh = w, h
        if w * h > self.limits.max_map_pixels:
            f = math.sqrt(self.limits.max_map_pixels / (w * h))
            gw, gh = max(1, int(w * f)), max(1, int(h * f))
            self._warn_once("maps", "maps of an image of %dx%d pixels are returned on a %dx%d grid, not per image pixel "
                       "(at most %d cells, InputLimits.max_map_pixels)", w, h, gw, gh, self.limits.max_map_pixels)
        device = grid.heatmaps.device
        # cell centres in image pixels; the image's own pixels when gw, gh == w, h
        xs = MapGrid(w / gw).centres(gw, device)
        ys = MapGrid(h / gh).centres(gh, device)
        out = _resample(torch.cat((grid.heatmaps, grid.pafs), 0), grid.box, grid.stride, xs, ys).cpu().numpy()
        k = grid.heatmaps.shape[0]
        return NetworkMaps(out[:k], out[k:], (w, h))

    def _run(self, x: Tensor) -> StageOutput:
        out = self._runner(x)
        return StageOutput(out.heatmaps.float(), out.pafs.float())

    def _run_scale(self, images: list[np.ndarray], scale: float) -> tuple[list[Tensor], list[Tensor], list[Letterbox]]:
        """Per image: network maps (C, h, w) for one scale, the flipped pass folded in when enabled.

        Images whose inputs have the same size go through the network together. Images of different sizes are not
        padded to a common size: extra padding changes what the network sees near the borders (on the dev set it cost
        0.07 AP), so they run separately.
        """
        preprocess_spec = self.preprocess_spec  # the pre-processing rule, not the weights entry (self.spec)
        boxes = [input_geometry(im.shape[1], im.shape[0], preprocess_spec, scale, self.limits) for im in images]
        for im, box in zip(images, boxes):
            wanted = input_geometry(im.shape[1], im.shape[0], preprocess_spec, scale, None)
            if box.content_size != wanted.content_size:
                self._warn_once("input", "an image of %dx%d pixels would need a %dx%d network input; it is scaled down "
                           "to %dx%d (limits: %d px a side, %d px in all), so small people in it may be missed",
                           im.shape[1], im.shape[0], *wanted.input_size, *box.content_size, self.limits.max_side,
                           self.limits.max_pixels)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, box in enumerate(boxes):
            groups.setdefault(box.input_size, []).append(i)
        heatmaps: list[Tensor] = [torch.empty(0)] * len(images)
        pafs: list[Tensor] = [torch.empty(0)] * len(images)
        for members in groups.values():
            x = torch.cat([preprocess(images[i], preprocess_spec, scale, limits=self.limits)[0] for i in members], 0)
            hm, pf = self._run_flipped(x) if self.flip else self._run(x)
            for j, i in enumerate(members):
                heatmaps[i], pafs[i] = hm[j], pf[j]
        return heatmaps, pafs, boxes

    def _run_flipped(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Average of the maps of ``x`` and of its mirror image mapped back (channels swapped, PAF x negated)."""
        out = self._run(torch.cat((x, torch.flip(x, dims=[3])), 0))
        n = x.shape[0]
        heatmaps, pafs = out.heatmaps.float(), out.pafs.float()
        fh = torch.flip(heatmaps[n:], dims=[3])[:, list(self.skeleton.flip_heatmap_channels)]
        fp = torch.flip(pafs[n:], dims=[3])[:, list(self.skeleton.flip_paf_channels)]
        return (heatmaps[:n] + fh) / 2, (pafs[:n] + fp * self._paf_flip_sign.to(fp.device)) / 2

    def _grid_maps(self, images: list[np.ndarray]) -> list[GridMaps]:
        if not images:
            return []
        stride = self.preprocess_spec.stride
        if len(self.scales) == 1:
            hm, pf, boxes = self._run_scale(images, self.scales[0])
            return [GridMaps(hm[i], pf[i], boxes[i], stride) for i in range(len(images))]
        # Multi-scale: average on the grid of the scale closest to 1, which keeps its maps as they are; the other
        # scales are bilinearly resampled onto that grid's cell centres. (Measured against the largest scale's grid,
        # a 2x or 4x finer grid and bicubic resampling: this was the most accurate, docs/benchmarks.md.)
        per_scale = [self._run_scale(images, s) for s in self.scales]
        ref = min(range(len(self.scales)), key=lambda i: abs(self.scales[i] - 1.0))
        grids = []
        for i in range(len(images)):
            box = per_scale[ref][2][i]
            h, w = per_scale[ref][0][i].shape[-2:]
            device = per_scale[ref][0][i].device
            centres_x = MapGrid(stride).centres(w, device)
            centres_y = MapGrid(stride).centres(h, device)
            img_x = box.to_image(torch.stack((centres_x, torch.zeros_like(centres_x)), -1))[:, 0]
            img_y = box.to_image(torch.stack((torch.zeros_like(centres_y), centres_y), -1))[:, 1]
            acc = torch.cat((per_scale[ref][0][i], per_scale[ref][1][i]), 0)
            for s, (hm, pf, boxes) in enumerate(per_scale):
                if s != ref:
                    acc = acc + _resample(torch.cat((hm[i], pf[i]), 0), boxes[i], stride, img_x, img_y)
            acc = acc / len(self.scales)
            k = self.skeleton.num_heatmaps
            grids.append(GridMaps(acc[:k], acc[k:], box, stride))
        return grids

    def _decode(self, grid: GridMaps) -> Detection:
        # the weights' codec reads the maps (its stride is the pre-processing's, WeightsSpec checks it)
        decoded = self.spec.codec.decode((grid.heatmaps, grid.pafs), config=self._map_decoder,
                                         content_size=grid.box.content_size)
        sx, sy, dx, dy = grid.box.affine
        width, height = grid.box.image_size
        people = [_clip(p.transformed(sx, sy, dx, dy), width, height) for p in decoded.people]
        peaks = decoded.peaks
        xy = grid.box.to_image(peaks.xy).cpu().numpy() if len(peaks.part) else np.zeros((0, 2), np.float32)
        score = peaks.score.cpu().numpy()
        part = peaks.part.cpu().numpy()
        candidates = tuple(
            np.concatenate((xy[part == k], score[part == k, None]), axis=1).astype(np.float32)
            for k in range(self.skeleton.num_keypoints)
        )
        return Detection(people, candidates)


def _clip(person: Person, width: int, height: int) -> Person:
    """Keep keypoints inside the image: sub-pixel refinement near a border can land a little outside it."""
    kps = tuple(None if k is None else replace(k, x=min(max(k.x, 0.0), width - 1.0), y=min(max(k.y, 0.0), height - 1.0))
                for k in person.keypoints)
    return replace(person, keypoints=kps)


def _as_image(image: ImageLike) -> np.ndarray:
    if isinstance(image, (str, Path)):
        return load_image(image)
    return as_bgr(image)


def _resample(maps: Tensor, box: Letterbox, stride: float, img_x: Tensor, img_y: Tensor) -> Tensor:
    """Bilinearly sample (C, h, w) maps of a letterboxed input at source-image pixel columns/rows.

    Returns (C, len(img_y), len(img_x)).
    """
    _, h, w = maps.shape
    ix = box.to_input(torch.stack((img_x, torch.zeros_like(img_x)), -1))[:, 0]
    iy = box.to_input(torch.stack((torch.zeros_like(img_y), img_y), -1))[:, 1]
    grid_of = MapGrid(stride)
    gx, gy = grid_of.to_unit(ix, w), grid_of.to_unit(iy, h)
    grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], -1).unsqueeze(0)
    return F.grid_sample(maps.unsqueeze(0), grid.to(maps.dtype), mode="bilinear", padding_mode="border",
                         align_corners=False).squeeze(0)
