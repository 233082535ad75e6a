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
        # Bodies here are small: read the whole body (up to the limit) before the app sees it.
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _once(message), send)
            seen += len(message.get("body", b""))
            if seen > self.limit:
                return await _refuse(send, 413, f"request body over {self.limit} bytes")
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _once(body, receive), send)


def _once(first: dict, then=None):
    """A receive callable that gives ``first``, then whatever ``then`` gives (disconnects)."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return first
        if then is None:
            return {"type": "http.disconnect"}
        return await then()
    return receive


async def _refuse(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
