"""Optional bearer token, checked for every HTTP request and WebSocket before any endpoint runs."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["BearerTokenMiddleware"]

_MESSAGE = ("missing or wrong bearer token: send 'Authorization: Bearer <token>' "
            "(a browser page or WebSocket may pass ?token=<token> instead)")


class BearerTokenMiddleware:
    """Refuses requests without the token: HTTP 401 (JSON), or a WebSocket closed with code 1008 before it opens."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    def _presented(self, scope: Scope) -> bytes | None:
        for name, value in scope.get("headers", ()):
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                return value[7:].strip()
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return query["token"][0].encode() if "token" in query else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            presented = self._presented(scope)
            if presented is None or not hmac.compare_digest(presented, self._token):
                if scope["type"] == "http":
                    response = JSONResponse({"error": _MESSAGE}, status_code=401,
                                            headers={"WWW-Authenticate": "Bearer"})
                    await response(scope, receive, send)
                else:
                    await send({"type": "websocket.close", "code": 1008, "reason": "missing or wrong token"})
                return
        await self.app(scope, receive, send)
