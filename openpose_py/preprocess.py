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
from .weights.spec import PreprocessSpec

__all__ = ["PreprocessSpec", "Letterbox", "preprocess", "normalise", "input_geometry", "load_image", "decode_image",
           "as_bgr"]


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


def as_bgr(image: np.ndarray) -> np.ndarray:
    """Return a 3-channel uint8 BGR image; grayscale and BGRA are converted, anything else is rejected."""
    if not isinstance(image, np.ndarray):
        raise ImageReadError(f"expected an image array (H, W, 3), got {type(image).__name__}")
    if image.size == 0 or image.ndim < 2 or min(image.shape[:2]) < 1:
        raise ImageReadError(f"empty image (shape {image.shape})")
    if image.dtype != np.uint8:
        if np.issubdtype(image.dtype, np.floating) and np.nanmax(image) <= 1.0:
            image = np.clip(np.nan_to_num(image) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        else:
            image = np.clip(np.nan_to_num(image), 0, 255).astype(np.uint8)
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image)
    raise ImageReadError(f"unsupported image shape {image.shape}; expected (H, W), (H, W, 3) or (H, W, 4)")


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as uint8 BGR, or raise :class:`ImageReadError` with a one-line reason."""
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"no such image file: {path}")
    return decode_image(np.fromfile(str(path), dtype=np.uint8), str(path))


def decode_image(data: bytes | np.ndarray, name: str = "image") -> np.ndarray:
    """Decode an encoded image (JPEG, PNG, WebP... bytes) as uint8 BGR exactly as :func:`load_image` reads files,
    or raise :class:`ImageReadError` naming ``name``."""
    buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray, memoryview)) else data
    image = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if buf.size else None
    if image is None:
        raise ImageReadError(f"not a readable image: {name}")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    return as_bgr(image)


def input_geometry(width: int, height: int, spec: PreprocessSpec, scale: float = 1.0) -> Letterbox:
    """The letterbox of a (width, height) image at ``scale``, without touching pixels."""
    target_h = max(spec.stride, int(round(spec.height * scale)))
    factor = target_h / height
    cw = max(1, int(round(width * factor)))
    ch = target_h
    iw = int(math.ceil(cw / spec.stride) * spec.stride)
    ih = int(math.ceil(ch / spec.stride) * spec.stride)
    if spec.pad == "center":
        px, py = (iw - cw) // 2, (ih - ch) // 2
    else:
        px = py = 0
    return Letterbox(factor, px, py, (iw, ih), (cw, ch), (width, height))


def preprocess(image_bgr: np.ndarray, spec: PreprocessSpec, scale: float = 1.0,
               size: tuple[int, int] | None = None) -> tuple[torch.Tensor, Letterbox]:
    """Resize, pad and normalise one BGR image.

    Args:
        image_bgr: (H, W, 3) uint8.
        scale: multiplies ``spec.height`` (multi-scale testing).
        size: optional fixed (width, height) input to pad into (batching frames of one size); must hold the content.

    Returns:
        ((1, 3, h, w) float32 tensor, Letterbox).
    """
    image_bgr = as_bgr(image_bgr)
    h, w = image_bgr.shape[:2]
    box = input_geometry(w, h, spec, scale)
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
