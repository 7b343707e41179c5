"""Image -> network input, and network coordinates -> image pixels.

Coordinates follow the pixel-centre convention everywhere: pixel ``i`` covers ``[i - 0.5, i + 0.5)``, so a map cell ``j``
at stride ``s`` is centred on input pixel ``s * j + (s - 1) / 2`` (``8 j + 3.5`` at stride 8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import torch

from .errors import ImageReadError
from .limits import DEFAULT_LIMITS, InputLimits

__all__ = ["PreprocessSpec", "Letterbox", "preprocess", "normalise", "input_geometry", "load_image", "as_bgr",
           "to_uint8"]


@dataclass(frozen=True, slots=True)
class PreprocessSpec:
    """How a weights file expects its input.

    ``normalised = (pixel - mean) / std`` on BGR (or RGB) uint8 pixels; the image is resized (aspect kept) so its
    height is ``height`` times the scale, then padded with the pixel value ``pad_value`` (0-255) to a multiple of
    ``stride`` (at the bottom and right, or centred).
    """

    mean: float = 128.0
    std: float = 256.0
    channel_order: Literal["BGR", "RGB"] = "BGR"
    height: int = 368
    stride: int = 8
    pad_value: float = 128.0
    pad: Literal["bottom_right", "center"] = "bottom_right"
    interpolation: Literal["linear", "cubic", "area"] = "cubic"


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


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Pixel values as uint8: the one conversion for arrays passed in and for decoded image files alike.

    uint8 is kept; uint16 (16-bit PNG and TIFF) keeps its high byte, ``value >> 8``, as 8-bit readers of such files
    do; floats must lie in [0, 1] and are scaled by 255; other integer types are accepted when every value is already
    in 0-255. Anything else (floats outside [0, 1] or not finite, bool, complex, object ...) raises
    :class:`ImageReadError` saying what to pass.
    """
    dtype = image.dtype
    if dtype == np.uint8:
        return image
    if dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    if np.issubdtype(dtype, np.floating):
        low, high = float(np.min(image)), float(np.max(image))
        if not (np.isfinite(low) and np.isfinite(high) and 0.0 <= low and high <= 1.0):
            raise ImageReadError(f"an image of dtype {dtype} must hold values in [0, 1], got [{low:g}, {high:g}]; "
                                 "pass 0-255 pixels as uint8")
        return (image.astype(np.float32) * 255.0 + 0.5).astype(np.uint8)
    if np.issubdtype(dtype, np.integer) and dtype != np.bool_:
        low, high = int(np.min(image)), int(np.max(image))
        if low < 0 or high > 255:
            raise ImageReadError(f"an image of dtype {dtype} must hold values in 0-255, got {low}-{high}; pass uint8 "
                                 "pixels (uint16 is scaled by 1/256)")
        return image.astype(np.uint8)
    raise ImageReadError(f"unsupported image dtype {dtype}; pass uint8 pixels (uint16, 0-255 integers and [0, 1] "
                         "floats are converted)")


def as_bgr(image: np.ndarray) -> np.ndarray:
    """Return a 3-channel uint8 BGR image; grayscale and BGRA are converted, other dtypes as :func:`to_uint8` says,
    anything else is rejected with :class:`ImageReadError`."""
    if not isinstance(image, np.ndarray):
        raise ImageReadError(f"expected an image array (H, W, 3), got {type(image).__name__}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ImageReadError(f"unsupported image shape {image.shape}; expected (H, W), (H, W, 3) or (H, W, 4)")
    if image.size == 0:
        raise ImageReadError(f"empty image (shape {image.shape})")
    image = to_uint8(image)
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(np.ascontiguousarray(image.reshape(image.shape[:2])), cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image)


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as uint8 BGR, or raise :class:`ImageReadError` with a one-line reason.

    16-bit and float files are converted by :func:`to_uint8`, like arrays passed to the estimator.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"no such image file: {path}")
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ImageReadError(f"not a readable image: {path}")
    try:
        return as_bgr(image)
    except ImageReadError as exc:
        raise ImageReadError(f"{path}: {exc}") from None


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
            cw = min(side_cap, max(1, int(width * factor)))
            ch = min(side_cap, max(1, int(height * factor)))
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
