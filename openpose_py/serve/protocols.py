"""uvicorn's protocols with the server's own limits where uvicorn has none or answers in its own way.

HTTP: a cap on a request's header section, its size (request line and fields) and its number of fields. uvicorn's
httptools protocol takes headers of any size; a client sending megabytes of them holds that memory per connection.
The protocol here counts the header bytes as they arrive, and a request over either cap is answered 431 with the
server's JSON error body and the connection closed, before the application sees it.

WebSocket: a message over ``ws_max_size`` is not kept (its bytes are counted and dropped as they arrive), and the
application receives a marker in its place (:data:`OVERSIZE`, the message's size), so that the stream answers it with
the JSON 413 every other refusal gets and goes on; uvicorn would close the connection with code 1009.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["OVERSIZE", "header_capped_protocol", "oversize_answering_ws_protocol"]

#: Key of the ASGI receive event that stands for a dropped over-size WebSocket message: its size in bytes.
OVERSIZE = "openpose_py.oversize"


def _refusal(message: str) -> bytes:
    body = json.dumps({"error": message}).encode("ascii")
    return (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\nconnection: close\r\n\r\n" + body)


class _TooLarge(Exception):
    pass


def header_capped_protocol(max_bytes: int, max_fields: int) -> type:
    """uvicorn's httptools HTTP protocol with the header section capped at ``max_bytes`` and ``max_fields``."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HeaderCappedProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._in_head, self._raw, self._size, self._fields, self._refused = True, 0, 0, 0, None

        def _count(self, size: int, fields: int = 0) -> None:
            self._size += size
            self._fields += fields
            if self._size > max_bytes or self._fields > max_fields:
                self._refused = (f"the request's headers are over this server's limit of {max_bytes} bytes and "
                                 f"{max_fields} fields")
                raise _TooLarge  # the parser stops; uvicorn's error path sends our answer (send_400_response)

        def on_message_begin(self) -> None:
            self._in_head, self._size, self._fields = True, 0, 0
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4, 1)
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._in_head, self._raw = False, 0
            super().on_headers_complete()

        def data_received(self, data: bytes) -> None:
            if self._refused is not None:
                return
            super().data_received(data)
            if self._in_head and self._refused is None:  # a field still arriving counts by its raw bytes
                self._raw += len(data)
                if self._raw > max_bytes:
                    try:
                        self._count(self._raw)
                    except _TooLarge:
                        self.send_400_response("")

        def send_400_response(self, msg: str) -> None:
            if self._refused is None:
                super().send_400_response(msg)
                return
            self.transport.write(_refusal(self._refused))
            self.transport.close()

    return HeaderCappedProtocol


def oversize_answering_ws_protocol() -> type:
    """uvicorn's wsproto WebSocket protocol, passing an :data:`OVERSIZE` marker for a message over ``ws_max_size``."""
    from uvicorn.protocols.websockets.wsproto_impl import WSProtocol

    class OversizeAnsweringWSProtocol(WSProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._dropped: int | None = None  # bytes of the over-size message now arriving

        def handle_message(self, event: Any) -> None:
            size = len(event.data.encode()) if isinstance(event.data, str) else len(event.data)
            if self._dropped is None and self.buffer.length + size <= self.buffer.max_length:
                super().handle_message(event)
                return
            self._dropped = (self.buffer.length if self._dropped is None else self._dropped) + size
            self.buffer.clear()
            if event.message_finished:
                self.queue.put_nowait({"type": "websocket.receive", "bytes": b"", OVERSIZE: self._dropped})
                self._dropped = None
                if not self.read_paused:  # as uvicorn does for a message: read on when the application takes it
                    self.read_paused = True
                    self.transport.pause_reading()

    return OversizeAnsweringWSProtocol
