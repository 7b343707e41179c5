"""Optional bearer token, checked for every HTTP request and WebSocket before any endpoint runs.

Programs send ``Authorization: Bearer <token>``. A browser cannot add that header to a page load, a script tag or a
WebSocket, so ``?token=<token>`` is accepted too, and a request authenticated that way gets the token back as an
HttpOnly, SameSite=Strict cookie, which the page's own assets, API calls and WebSocket then carry.
"""

from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote, unquote

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BearerTokenMiddleware"]

COOKIE = "openpose_py_token"
_MESSAGE = ("missing or wrong bearer token: send 'Authorization: Bearer <token>' "
            "(a browser page or WebSocket may pass ?token=<token> instead)")


class BearerTokenMiddleware:
    """Refuses requests without the token: HTTP 401 (JSON), or a WebSocket closed with code 1008 before it opens."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    def _presented(self, scope: Scope) -> tuple[bytes | None, bool]:
        """The token the request carries, and whether it came in the query string."""
        cookie = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                return value[7:].strip(), False
            if name == b"cookie":
                morsel = SimpleCookie(value.decode("latin-1")).get(COOKIE)
                cookie = unquote(morsel.value).encode() if morsel is not None else cookie
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "token" in query:
            return query["token"][0].encode(), True
        return cookie, False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        presented, from_query = self._presented(scope)
        if presented is None or not hmac.compare_digest(presented, self._token):
            if scope["type"] == "http":
                response = JSONResponse({"error": _MESSAGE}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008, "reason": "missing or wrong token"})
            return
        if not (from_query and scope["type"] == "http"):
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{COOKIE}={quote(self._token.decode(), safe='')}; Path=/; HttpOnly; SameSite=Strict"
                message = {**message, "headers": [*message.get("headers", ()), (b"set-cookie", cookie.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
