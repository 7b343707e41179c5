"""Reading an uploaded picture: size-limited body, raw or multipart, header checks, then decoding.

Every refusal is an :class:`ApiError` with the HTTP status and a one-line message the client sees as JSON. Uploads
are bytes only: nothing a client sends is ever used as a path on the server.
"""

from __future__ import annotations

from typing import AsyncIterator

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from ..errors import ImageReadError
from ..images import decode_image
from .imageinfo import TruncatedImage, UnsupportedImageType, read_header

__all__ = ["ApiError", "read_body", "decode_upload"]

class ApiError(Exception):
    """A request the server refuses: ``status`` and a one-line ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The picture's bytes: the whole body, or the one file of a ``multipart/form-data`` body; nothing else of the
    request (file names included) is used."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(413, f"request body of {int(declared)} bytes is over this server's limit of {max_bytes}")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise ApiError(413, f"request body is over this server's limit of {max_bytes} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiError(400, "the client disconnected before sending the whole body") from None
    body = b"".join(chunks)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    # any other body is the picture itself, whatever it is labelled (curl --data-binary says form-urlencoded);
    # its type is read from its bytes
    return await _multipart_file(request, body) if media_type == "multipart/form-data" else body


async def _multipart_file(request: Request, body: bytes) -> bytes:
    async def once() -> AsyncIterator[bytes]:
        yield body

    try:
        form = await MultiPartParser(request.headers, once(), max_files=1, max_fields=8).parse()
    except MultiPartException as exc:
        raise ApiError(400, f"malformed multipart upload: {exc.message}") from None
    try:
        files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        if not files:
            raise ApiError(400, "the multipart upload has no file part; send the image as a file field")
        return await files[0].read()
    finally:
        await form.close()


async def decode_upload(data: bytes, max_pixels: int) -> np.ndarray:
    """Check the picture's header (type, completeness, dimensions) and then decode it to uint8 BGR."""
    try:
        header = read_header(data)
    except UnsupportedImageType as exc:
        raise ApiError(415, f"{exc}; send a JPEG, PNG or WebP picture") from None
    except (TruncatedImage, ImageReadError) as exc:
        raise ApiError(400, str(exc)) from None
    if header.pixels > max_pixels:
        raise ApiError(413, f"image of {header.width} x {header.height} pixels is over this server's limit of "
                            f"{max_pixels} pixels")
    try:
        image = await run_in_threadpool(decode_image, data, f"uploaded {header.format.upper()}")
    except ImageReadError as exc:
        raise ApiError(400, str(exc)) from None
    if image.shape[:2] != (header.height, header.width):
        raise ApiError(400, f"the {header.format.upper()} header says {header.width} x {header.height} pixels but "
                            f"the picture decodes to {image.shape[1]} x {image.shape[0]}")
    return image
