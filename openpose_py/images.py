"""Reading pictures: files, encoded bytes and arrays -> 3-channel uint8 BGR, the one form the rest of the package
takes. No torch: the CLI, the server and the video sources read and check pictures before any network loads."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from .atomic import write_bytes_atomic
from .errors import ImageReadError, OutputError
from .imageinfo import ImageHeader, TruncatedImage, read_header

__all__ = ["to_uint8", "as_bgr", "load_image", "decode_image", "encode_image", "write_image", "not_found"]


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
        raise ImageReadError(not_found(path, "image file"))
    return decode_image(np.fromfile(str(path), dtype=np.uint8), str(path))


def not_found(path: str | Path, what: str) -> str:
    """Why nothing can be read at ``path``: ``no such <what>: path``, or that it is a symbolic link loop or a link to
    nothing (which ``is_file()`` reports alike)."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path} is a symbolic link loop (it leads back to itself)"
        if os.path.islink(path):
            return f"{path} is a symbolic link to {os.readlink(path)}, which does not exist"
    return f"no such {what}: {path}"


def decode_image(data: bytes | np.ndarray, name: str = "image") -> np.ndarray:
    """Decode an encoded image (JPEG, PNG, WebP... bytes) as uint8 BGR exactly as :func:`load_image` reads files,
    or raise :class:`ImageReadError` naming ``name``.

    The picture is turned upright as its EXIF orientation says (a phone photo stored sideways), as browsers show it;
    a JPEG, PNG or WebP whose bytes end early is refused from its header, before the decoder sees it.
    """
    buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray, memoryview)) else data
    header = _header(buf, name)
    try:
        image = cv2.imdecode(buf, _DECODE_FLAGS) if buf.size else None
    except cv2.error as exc:
        size = f"its header declares {header.width} x {header.height} pixels, " if header else ""
        reason = "more than OpenCV decodes" if "MAX_IMAGE_PIXELS" in str(exc) else "OpenCV cannot decode it"
        raise ImageReadError(f"not a readable image: {name}: {size}{reason}") from None
    if image is None:
        raise ImageReadError(f"not a readable image: {name}")
    try:
        return as_bgr(image)
    except ImageReadError as exc:
        raise ImageReadError(f"{name}: {exc}") from None


# any depth (16-bit kept for to_uint8) and any colour layout, with the EXIF orientation applied (IMREAD_UNCHANGED
# would ignore it); an alpha channel is dropped, as as_bgr drops it
_DECODE_FLAGS = cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR


def _header(buf: np.ndarray, name: str) -> ImageHeader | None:
    """The JPEG/PNG/WebP header of ``buf``, None for other formats (OpenCV decides); a truncated picture is refused
    here, so that the decoder's own complaint (libpng prints one on stderr) never comes."""
    try:
        return read_header(buf.tobytes())
    except TruncatedImage as exc:
        raise ImageReadError(f"not a readable image: {name}: {exc}") from None
    except ImageReadError:
        return None


def encode_image(image: np.ndarray, extension: str = ".png", params: Sequence[int] = ()) -> bytes:
    """``image`` (uint8 BGR) encoded in the format of ``extension`` (``.png``, ``.jpg``...), or :class:`OutputError`."""
    ok, buf = cv2.imencode(extension, image, list(params))
    if not ok:
        raise OutputError(f"cannot encode an image as {extension!r}")
    return buf.tobytes()


def write_image(path: str | Path, image: np.ndarray, params: Sequence[int] = ()) -> None:
    """Encode ``image`` (uint8 BGR) in the format of ``path``'s extension and write it atomically."""
    path = Path(path)
    try:
        data = encode_image(image, path.suffix or ".png", params)
    except OutputError as exc:
        raise OutputError(f"{exc} for {path}") from None
    write_bytes_atomic(path, data)
