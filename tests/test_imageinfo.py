"""Reading picture headers: sizes as the encoders wrote them, incomplete and foreign bytes refused."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from openpose_py.errors import ImageReadError
from openpose_py.imageinfo import TruncatedImage, UnsupportedImageType, read_header


@pytest.mark.parametrize("ext, params, fmt", [
    (".jpg", (), "jpeg"),
    (".jpg", (cv2.IMWRITE_JPEG_PROGRESSIVE, 1), "jpeg"),
    (".png", (), "png"),
    (".webp", (cv2.IMWRITE_WEBP_QUALITY, 80), "webp"),   # lossy: VP8
    (".webp", (cv2.IMWRITE_WEBP_QUALITY, 101), "webp"),  # lossless: VP8L
])
@pytest.mark.parametrize("size", [(1, 1), (37, 5), (640, 481)])
def test_header_gives_format_and_size(ext, params, fmt, size) -> None:
    width, height = size
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    data = cv2.imencode(ext, image, list(params))[1].tobytes()
    header = read_header(data)
    assert (header.format, header.width, header.height) == (fmt, width, height)
    with pytest.raises(TruncatedImage):
        read_header(data[: len(data) - 20])


def test_foreign_and_empty_bytes_are_refused() -> None:
    with pytest.raises(ImageReadError, match="empty"):
        read_header(b"")
    for data in (b"GIF89a" + bytes(40), b"BM" + bytes(60), b"%PDF-1.4", b"/etc/passwd"):
        with pytest.raises(UnsupportedImageType):
            read_header(data)
    with pytest.raises(TruncatedImage):
        read_header(b"\xff\xd8\xff\xe0\x00\x10JFIF")
