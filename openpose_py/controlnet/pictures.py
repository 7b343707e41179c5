"""Pictures in, pictures out, as controlnet_aux's OpenposeDetector takes and gives them: any PIL image or array ->
(H, W, 3) uint8 RGB (``hwc3``), the resizing rule (``resize_image``: the short side to the resolution, both sides
rounded to multiples of 64), with one-line errors for what cannot be turned into a picture of a sane size.

PIL is imported only for ``output_type="pil"``; a PIL image passed in is read through its own methods.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import cv2
import numpy as np

from ..errors import ImageReadError, OpenPoseError
from ..images import load_image, to_uint8

__all__ = ["ResolutionError", "hwc3", "as_rgb", "resized_shape", "resize_image", "to_pil", "MAX_SIDE", "MAX_PIXELS"]

#: The largest picture side and area a resolution may ask for (the detect-size canvas and the output alike).
MAX_SIDE = 16384
MAX_PIXELS = 8192 * 8192


class ResolutionError(OpenPoseError, ValueError):
    """A detect or image resolution that gives no picture, or one too large to make."""


def hwc3(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) -> (H, W, 3): grey repeated, an alpha channel composited on
    white (``colour * a + 255 * (1 - a)`` in float32, truncated), as controlnet_aux's ``HWC3``."""
    if image.ndim == 2:
        image = image[:, :, None]
    channels = image.shape[2]
    if channels == 3:
        return image
    if channels == 1:
        return np.concatenate([image] * 3, axis=2)
    alpha = image[:, :, 3:4].astype(np.float32) / 255.0
    blended = image[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return blended.clip(0, 255).astype(np.uint8)


def _pil_array(image: Any) -> np.ndarray:
    """A PIL image's pixels: RGB, RGBA and L as they are, palettes through their colours (and transparency), 16-bit
    and 32-bit integer grey by their high byte, float grey in [0, 1] or [0, 255], anything else converted to RGB."""
    mode = image.mode
    if mode in ("RGB", "RGBA", "L"):
        return np.asarray(image)
    if mode in ("P", "PA", "LA"):
        transparent = mode != "P" or "transparency" in image.info
        return np.asarray(image.convert("RGBA" if transparent else "RGB"))
    if mode == "1":
        return np.asarray(image.convert("L"))
    if mode.startswith("I") or mode == "F":
        values = np.asarray(image).astype(np.float64)
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        if not (math.isfinite(low) and math.isfinite(high)) or low < 0 or high > 65535:
            raise ImageReadError(f"a PIL image of mode {mode} must hold values in 0-65535, got {low:g}-{high:g}")
        if mode == "F" and high <= 1.0:
            return (values * 255.0 + 0.5).astype(np.uint8)
        if mode.startswith("I;16") or high > 255:
            return (values.astype(np.uint16) >> 8).astype(np.uint8)
        return values.round().astype(np.uint8)
    return np.asarray(image.convert("RGB"))


def as_rgb(image: Any) -> np.ndarray:
    """A PIL image, an array (uint8, uint16, 0-255 integers or [0, 1] floats; (H, W), (H, W, 1), (H, W, 3) RGB or
    (H, W, 4) RGBA) or an image file's path -> contiguous (H, W, 3) uint8 RGB, or :class:`ImageReadError`."""
    if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__"):
        return np.ascontiguousarray(load_image(image)[:, :, ::-1])
    if hasattr(image, "mode") and hasattr(image, "convert"):
        array = _pil_array(image)
    elif isinstance(image, np.ndarray):
        array = image
    else:
        raise ImageReadError(f"expected a PIL image, an (H, W, 3) RGB array or a path, got {type(image).__name__}")
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        hint = ""
        if array.ndim == 3 and array.shape[0] in (1, 3, 4):
            hint = " (channels first? pass image.transpose(1, 2, 0))"
        elif array.ndim == 4 and array.shape[0] == 1:
            hint = " (a batch of one? pass image[0])"
        raise ImageReadError(f"unsupported image shape {array.shape}; expected (H, W), (H, W, 1), (H, W, 3) or "
                             f"(H, W, 4){hint}")
    if array.size == 0:
        raise ImageReadError(f"empty image (shape {array.shape})")
    return np.ascontiguousarray(hwc3(to_uint8(array)))


def _check_resolution(resolution: Any, name: str) -> float:
    if isinstance(resolution, bool) or not isinstance(resolution, numbers.Real):
        raise ResolutionError(f"{name} must be a number of pixels, got {resolution!r}")
    value = float(resolution)
    if not math.isfinite(value) or value <= 0:
        raise ResolutionError(f"{name} must be a positive number of pixels, got {resolution!r}")
    return value


def resized_shape(height: int, width: int, resolution: Any, name: str = "resolution") -> tuple[int, int, float]:
    """(height, width, factor) of an image scaled so that its short side is ``resolution``, each side then rounded
    to the nearest multiple of 64 (halves to even); a :class:`ResolutionError` if a side comes to 0 or the picture
    would pass :data:`MAX_SIDE` or :data:`MAX_PIXELS`."""
    value = _check_resolution(resolution, name)
    k = value / min(float(height), float(width))
    h = int(np.round(float(height) * k / 64.0)) * 64
    w = int(np.round(float(width) * k / 64.0)) * 64
    if h == 0 or w == 0:
        raise ResolutionError(f"{name} {resolution!r} gives a {w}x{h} picture for a {width}x{height} image (sides "
                              "are rounded to multiples of 64); ask for more")
    if max(h, w) > MAX_SIDE or h * w > MAX_PIXELS:
        raise ResolutionError(f"{name} {resolution!r} would make a {w}x{h} picture of a {width}x{height} image; the "
                              f"most is {MAX_SIDE} pixels a side and {MAX_PIXELS // 1_000_000} megapixels")
    return h, w, k


def resize_image(image: np.ndarray, resolution: Any, name: str = "resolution") -> np.ndarray:
    """``image`` at :func:`resized_shape`'s size: Lanczos when enlarging, area averaging when shrinking."""
    h, w, k = resized_shape(image.shape[0], image.shape[1], resolution, name)
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_LANCZOS4 if k > 1 else cv2.INTER_AREA)


def to_pil(image: np.ndarray) -> Any:
    """An (H, W, 3) uint8 RGB array as a PIL image (needs Pillow: ``pip install pillow``)."""
    try:
        from PIL import Image
    except ImportError:
        raise OpenPoseError('output_type="pil" needs Pillow (pip install pillow, or openpose-py[controlnet]); '
                            'or pass output_type="np"') from None
    return Image.fromarray(image)
