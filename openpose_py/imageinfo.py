"""Format and dimensions of an uploaded JPEG, PNG or WebP read from its header, before any pixel is decoded.

The server decides from this whether a picture is of an accepted type, complete and small enough, so an upload
claiming 100000 x 100000 pixels is refused without allocating them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import ImageReadError

__all__ = ["ImageHeader", "UnsupportedImageType", "TruncatedImage", "read_header", "FORMATS"]

#: Accepted formats and their media types.
FORMATS: dict[str, str] = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"IEND\xaeB`\x82"
# JPEG start-of-frame markers (C0-CF except DHT C4, JPG C8 and DAC CC) carry the frame's dimensions
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# markers that stand alone, without a length field
_JPEG_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}


class UnsupportedImageType(ImageReadError):
    """Bytes that are not a JPEG, PNG or WebP picture."""


class TruncatedImage(ImageReadError):
    """A picture whose bytes stop before its end."""


@dataclass(frozen=True, slots=True)
class ImageHeader:
    format: str  # a key of FORMATS
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def read_header(data: bytes) -> ImageHeader:
    """The format and size of an encoded picture, checking that its bytes are complete.

    Raises:
        ImageReadError: empty data or impossible dimensions.
        UnsupportedImageType: neither JPEG, PNG nor WebP.
        TruncatedImage: the data ends before the picture does.
    """
    if not data:
        raise ImageReadError("empty upload: no image bytes were sent")
    if data.startswith(b"\xff\xd8\xff"):
        header = _jpeg(data)
    elif data.startswith(_PNG_SIGNATURE):
        header = _png(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        header = _webp(data)
    else:
        raise UnsupportedImageType("not a JPEG, PNG or WebP image")
    if header.width < 1 or header.height < 1:
        raise ImageReadError(f"{header.format} header gives an empty picture ({header.width} x {header.height})")
    return header


def _truncated(fmt: str) -> TruncatedImage:
    return TruncatedImage(f"truncated {fmt.upper()} image: the data ends before the picture does")


def _jpeg(data: bytes) -> ImageHeader:
    pos, size = 2, None
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ImageReadError("corrupt JPEG image: expected a marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker in _JPEG_SOF and pos + 9 <= len(data):
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            size = (width, height)
        if marker == 0xDA:  # start of scan: entropy-coded data follows, up to the end-of-image marker
            if size is None:
                raise ImageReadError("corrupt JPEG image: no frame header before the scan")
            if data.rfind(b"\xff\xd9") < pos:
                raise _truncated("jpeg")
            return ImageHeader("jpeg", *size)
        pos += 2 + length
    raise _truncated("jpeg")


def _png(data: bytes) -> ImageHeader:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise _truncated("png") if len(data) < 24 else ImageReadError("corrupt PNG image: no IHDR chunk")
    width, height = struct.unpack(">II", data[16:24])
    if data.rfind(_PNG_IEND) < 24:
        raise _truncated("png")
    return ImageHeader("png", width, height)


def _webp(data: bytes) -> ImageHeader:
    (riff_size,) = struct.unpack("<I", data[4:8])
    if len(data) < 8 + riff_size or len(data) < 30:
        raise _truncated("webp")
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
    elif chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise ImageReadError("corrupt WebP image: bad VP8 frame header")
        width, height = (v & 0x3FFF for v in struct.unpack("<HH", data[26:30]))
    elif chunk == b"VP8L":
        if data[20] != 0x2F:
            raise ImageReadError("corrupt WebP image: bad VP8L signature")
        (bits,) = struct.unpack("<I", data[21:25])
        width, height = 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    else:
        raise ImageReadError(f"corrupt WebP image: unknown chunk {chunk!r}")
    return ImageHeader("webp", width, height)
