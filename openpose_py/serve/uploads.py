"""Reading an uploaded picture: size-limited body, raw or multipart, header checks, then decoding.

Every refusal is an :class:`ApiError` with the HTTP status and a one-line message the client sees as JSON. Uploads
are bytes only: nothing a client sends is ever used as a path on the server.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator, Iterator

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from ..errors import ImageReadError
from ..images import decode_image
from ..imageinfo import ImageHeader, TruncatedImage, UnsupportedImageType, read_header

__all__ = ["ApiError", "PixelBudget", "read_body", "check_upload", "decode_upload"]

class ApiError(Exception):
    """A request the server refuses: ``status`` and a one-line ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class PixelBudget:
    """The pixels of the pictures a server holds decoded at once. :meth:`hold` takes a picture's share for as long
    as its request lasts, or refuses it (503) when that would go over the budget; one picture is always let in when
    nothing else is held. Used from the event loop only, so it needs no lock."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.held = 0

    @contextlib.contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        if self.held and self.held + pixels > self.budget:
            raise ApiError(503, f"server busy: {self.held} pixels of pictures in progress, and this one's {pixels} "
                                f"would pass the limit of {self.budget}; retry shortly")
        self.held += pixels
        try:
            yield
        finally:
            self.held -= pixels


async def read_body(request: Request, max_bytes: int, timeout_s: float) -> bytes:
    """The picture's bytes: the whole body, or the one file of a ``multipart/form-data`` body; nothing else of the
    request (file names included) is used. A body that has not arrived in ``timeout_s`` seconds is refused (408)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(413, f"request body of {int(declared)} bytes is over this server's limit of {max_bytes}")
    chunks: list[bytes] = []

    async def receive() -> None:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise ApiError(413, f"request body is over this server's limit of {max_bytes} bytes")
            chunks.append(chunk)

    try:
        await asyncio.wait_for(receive(), timeout_s)
    except ClientDisconnect:
        raise ApiError(400, "the client disconnected before sending the whole body") from None
    except asyncio.TimeoutError:
        raise ApiError(408, f"the request body did not arrive within {timeout_s:g} s") from None
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


def check_upload(data: bytes, max_pixels: int) -> ImageHeader:
    """The picture's header (type, completeness, dimensions), read before anything is decoded."""
    try:
        header = read_header(data)
    except UnsupportedImageType as exc:
        raise ApiError(415, f"{exc}; send a JPEG, PNG or WebP picture") from None
    except (TruncatedImage, ImageReadError) as exc:
        raise ApiError(400, str(exc)) from None
    if header.pixels > max_pixels:
        raise ApiError(413, f"image of {header.width} x {header.height} pixels is over this server's limit of "
                            f"{max_pixels} pixels")
    return header


async def decode_upload(data: bytes, header: ImageHeader) -> np.ndarray:
    """Decode a picture :func:`check_upload` passed to uint8 BGR, holding it to the size its header gave."""
    try:
        image = await run_in_threadpool(decode_image, data, f"uploaded {header.format.upper()}")
    except ImageReadError as exc:
        raise ApiError(400, str(exc)) from None
    if image.shape[:2] not in ((header.height, header.width), (header.width, header.height)):  # EXIF may turn it
        raise ApiError(400, f"the {header.format.upper()} header says {header.width} x {header.height} pixels but "
                            f"the picture decodes to {image.shape[1]} x {image.shape[0]}")
    return image
