"""Image -> network input, and network coordinates -> image pixels.

Coordinates follow the pixel-centre convention everywhere: pixel ``i`` covers ``[i - 0.5, i + 0.5)``, so a map cell ``j``
at stride ``s`` is centred on input pixel ``s * j + (s - 1) / 2`` (``8 j + 3.5`` at stride 8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from .images import as_bgr
from .limits import DEFAULT_LIMITS, InputLimits
from .weights.spec import PreprocessSpec

__all__ = ["PreprocessSpec", "Letterbox", "preprocess", "normalise", "input_geometry"]


_CV2_INTERP = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC, "area": cv2.INTER_AREA}


@dataclass(frozen=True, slots=True)
class Letterbox:
    """The geometry from an image to the network input: ``input = image * scale + pad`` (pixel centres)."""

    scale: float
    pad_x: int
    pad_y: int
    input_size: tuple[int, int]  # (width, height) of the padded network input
    content_size: tuple[int, int]  # (width, height) of the resized image inside it
    image_size: tuple[int, int]  # (width, height) of the source image

    def to_image(self, xy: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Map (..., 2) input-pixel coordinates to source-image pixels."""
        sx, sy, dx, dy = self.affine
        stack = torch.stack if isinstance(xy, torch.Tensor) else np.stack
        return stack((xy[..., 0] * sx + dx, xy[..., 1] * sy + dy), -1)

    def to_input(self, xy: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Map (..., 2) source-image pixels to input-pixel coordinates (inverse of :meth:`to_image`)."""
        sx, sy, dx, dy = self.affine
        stack = torch.stack if isinstance(xy, torch.Tensor) else np.stack
        return stack(((xy[..., 0] - dx) / sx, (xy[..., 1] - dy) / sy), -1)

    @property
    def affine(self) -> tuple[float, float, float, float]:
        """(sx, sy, dx, dy) with image = input * s + d, for mapping people."""
        sx = self.image_size[0] / self.content_size[0]
        sy = self.image_size[1] / self.content_size[1]
        return sx, sy, (0.5 - self.pad_x) * sx - 0.5, (0.5 - self.pad_y) * sy - 0.5


def _padded(side: int, stride: int) -> int:
    return -(-side // stride) * stride


def _area_factor(width: int, height: int, stride: int, max_pixels: int) -> float:
    """The largest resize factor f with (w f + stride) (h f + stride) <= max_pixels: the padded input's area bound."""
    a, b, c = width * height, stride * (width + height), stride * stride - max_pixels
    if c >= 0:
        return 0.0
    return (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)


def input_geometry(width: int, height: int, spec: PreprocessSpec, scale: float = 1.0,
                   limits: InputLimits | None = DEFAULT_LIMITS) -> Letterbox:
    """The letterbox of a (width, height) image at ``scale``, without touching pixels.

    The input is ``spec.height * scale`` high unless that breaks ``limits`` (see :class:`InputLimits`): then the
    image is resized smaller, aspect kept, to fit; sides below ``limits.min_side`` are padded. ``limits=None``
    gives the unbounded geometry (what the image would ask for).
    """
    stride = spec.stride
    target_h = max(stride, int(round(spec.height * scale)))
    factor = target_h / height
    cw, ch = max(1, int(round(width * factor))), target_h
    min_in = 0
    if limits is not None:
        side_cap = max(stride, limits.max_side // stride * stride)
        if max(cw, ch) > side_cap or _padded(cw, stride) * _padded(ch, stride) > limits.max_pixels:
            factor = min(factor, side_cap / max(width, height),
                         _area_factor(width, height, stride, limits.max_pixels))
            cw = max(1, int(width * factor))  # factor <= side_cap / max(width, height): within the cap
            ch = max(1, int(height * factor))
        min_in = min(side_cap, _padded(limits.min_side, stride))
    iw = max(min_in, _padded(cw, stride))
    ih = max(min_in, _padded(ch, stride))
    if spec.pad == "center":
        px, py = (iw - cw) // 2, (ih - ch) // 2
    else:
        px = py = 0
    return Letterbox(factor, px, py, (iw, ih), (cw, ch), (width, height))


def preprocess(image_bgr: np.ndarray, spec: PreprocessSpec, scale: float = 1.0,
               size: tuple[int, int] | None = None,
               limits: InputLimits | None = DEFAULT_LIMITS) -> tuple[torch.Tensor, Letterbox]:
    """Resize, pad and normalise one BGR image.

    Args:
        image_bgr: (H, W, 3) uint8.
        scale: multiplies ``spec.height`` (multi-scale testing).
        size: optional fixed (width, height) input to pad into (batching frames of one size); must hold the content.
        limits: bounds on the input size (:func:`input_geometry`).

    Returns:
        ((1, 3, h, w) float32 tensor, Letterbox).
    """
    image_bgr = as_bgr(image_bgr)
    h, w = image_bgr.shape[:2]
    box = input_geometry(w, h, spec, scale, limits)
    if size is not None:
        if size[0] < box.content_size[0] or size[1] < box.content_size[1]:
            raise ValueError(f"input size {size} is smaller than the resized image {box.content_size}")
        px, py = box.pad_x, box.pad_y
        if spec.pad == "center":
            px, py = (size[0] - box.content_size[0]) // 2, (size[1] - box.content_size[1]) // 2
        box = Letterbox(box.scale, px, py, size, box.content_size, box.image_size)
    resized = image_bgr
    if box.content_size != (w, h):
        resized = cv2.resize(image_bgr, box.content_size, interpolation=_CV2_INTERP[spec.interpolation])
    iw, ih = box.input_size
    cw, ch = box.content_size
    canvas = np.full((ih, iw, 3), int(round(spec.pad_value)), dtype=np.uint8)
    canvas[box.pad_y:box.pad_y + ch, box.pad_x:box.pad_x + cw] = resized
    tensor = normalise(torch.from_numpy(canvas).permute(2, 0, 1).unsqueeze(0), spec).contiguous()
    return tensor, box


def normalise(images: torch.Tensor, spec: PreprocessSpec) -> torch.Tensor:
    """(B, 3, H, W) uint8 BGR -> float network input ``(pixel - mean) / std`` in the spec's channel order.

    The one normalisation of the package: inference pre-processing and training batches both go through it.
    """
    x = images.float()
    if spec.channel_order == "RGB":
        x = x.flip(1)
    return (x - spec.mean) / spec.std
