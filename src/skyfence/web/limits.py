"""Request bodies are size-limited: a larger body is refused with 413 before it is read into memory."""

from __future__ import annotations

import json

MAX_BODY = 16 * 1024


class BodyLimit:
    """ASGI middleware: refuse HTTP bodies over ``limit`` bytes (by Content-Length, or as they stream)."""

    def __init__(self, app, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    return await _refuse(send, 400, "bad Content-Length")
                if size > self.limit:
                    return await _refuse(send, 413, f"request body over {self.limit} bytes")
        seen = 0
        started = False

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracked(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracked)
        except _TooLarge:
            if not started:
                await _refuse(send, 413, f"request body over {self.limit} bytes")


class _TooLarge(Exception):
    pass


async def _refuse(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
