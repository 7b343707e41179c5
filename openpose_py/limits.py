"""Bounds on the work and memory one image can cause, whatever its size or shape.

Kept free of torch and OpenCV imports so that the CLI can build its flags from these defaults without loading them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .checks import check_all, check_number

__all__ = ["InputLimits", "DEFAULT_LIMITS"]


@dataclass(frozen=True, slots=True)
class InputLimits:
    """Size limits of the network input and of the maps returned with an image.

    The network input normally has the requested height (``height * scale``) and the width the image's aspect ratio
    gives it. An image whose input would exceed ``max_side`` pixels on a side or ``max_pixels`` in all (an 8000x50
    strip at height 368 would need a 58,880 pixel wide input) is scaled down, aspect kept, until it fits; an input
    narrower or lower than ``min_side`` is padded up to it. Maps resampled to the image (``network_output``, saved
    map pictures) cover every image pixel up to ``max_map_pixels``, and a grid scaled down evenly to that many cells
    beyond it.

    Attributes:
        max_side: the longest side of a network input, in pixels.
        max_pixels: a network input's width times height (padding included).
        min_side: a network input's shortest side; smaller ones (a 1x500 image at height 368 is 8 pixels wide
            after padding to the stride) are padded, to at least two map cells at stride 8.
        max_map_pixels: cells of maps resampled onto the image's pixel grid (57 float32 maps of the lightweight
            model take 228 bytes per cell: 473 MB at the default, a full-HD frame).
    """

    max_side: int = 4096
    max_pixels: int = 2048 * 2048
    min_side: int = 16
    max_map_pixels: int = 1920 * 1080

    def __post_init__(self) -> None:
        for name in ("max_side", "max_pixels", "min_side", "max_map_pixels"):
            check_number(f"InputLimits.{name}", getattr(self, name), 1, integer=True)
        check_all((
            (self.min_side <= self.max_side,
             f"InputLimits.min_side ({self.min_side}) exceeds max_side ({self.max_side})"),
            # any input of at most max_side by min_side pixels must be allowed, or a thin strip could not fit at all
            (self.max_pixels >= self.max_side * self.min_side,
             f"InputLimits.max_pixels ({self.max_pixels}) must be at least max_side x min_side "
             f"({self.max_side * self.min_side})"),
        ))


#: The limits an estimator gets unless told otherwise.
DEFAULT_LIMITS = InputLimits()
