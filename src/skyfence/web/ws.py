"""The websocket ``/ws``: authenticate with the first message, then receive pictures and incident changes."""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from skyfence.web.auth import ANONYMOUS
from skyfence.web.hub import Client

router = APIRouter()
MAX_MESSAGE = 4096
AUTH_TIMEOUT = 10.0
RECHECK = 2.0  # s: how often an open connection's token is checked again (a user removed is cut off)


@router.websocket("/ws")
async def websocket(ws: WebSocket) -> None:
    ctx = ws.app.state.ctx
    await ws.accept()
    try:
        first = await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT)
    except (asyncio.TimeoutError, WebSocketDisconnect, RuntimeError, KeyError):
        return await _close(ws, 4400, "send {\"type\": \"auth\", \"token\": ...} first")
    msg = _parse(first)
    token = msg.get("token") if msg.get("type") == "auth" else None
    user = await ctx.user_of(token) if isinstance(token, str) and token else None
    if user is None and not (ctx.public and msg.get("type") == "auth"):
        return await _close(ws, 4401, "unknown or missing token")
    user = user or ANONYMOUS
    async def send(data: str | bytes) -> None:  # pictures are binary (deflated JSON), the rest text
        await (ws.send_bytes(data) if isinstance(data, bytes) else ws.send_text(data))

    client = Client(send, user.name)
    hub = ctx.hub
    hub.join(client)
    sender = asyncio.create_task(client.run())
    watcher = asyncio.create_task(_recheck(ws, ctx, token)) if user is not ANONYMOUS else None
    try:
        replay = None
        if ctx.recording is not None:
            feed = client.feed
            replay = {"start": ctx.recording.start, "end": ctx.recording.end, "time": feed.time, "speed": feed.speed}
        await ws.send_text(json.dumps({"type": "hello", "mode": ctx.mode, "replay": replay,
                                       "user": {"name": user.name, "role": user.role, "party": user.party}}))
        await hub.welcome(client)
        while True:
            text = await ws.receive_text()
            if len(text) > MAX_MESSAGE:
                continue
            msg = _parse(text)
            if msg.get("type") == "clock":
                await hub.clock(client, msg)
    except (WebSocketDisconnect, RuntimeError, KeyError):
        pass
    finally:
        for task in (sender, watcher):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (sender, watcher) if t is not None), return_exceptions=True)
        hub.leave(client)


async def _recheck(ws: WebSocket, ctx, token: str) -> None:
    """Close the connection once its token no longer works (the user removed): it must stop receiving at once,
    as the API stops answering it."""
    while True:
        await asyncio.sleep(RECHECK)
        if await ctx.user_of(token) is None:
            await _close(ws, 4401, "the token no longer works")
            return


def _parse(text: str) -> dict:
    try:
        msg = json.loads(text)
    except ValueError:
        return {}
    return msg if isinstance(msg, dict) else {}


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    try:
        await ws.close(code, reason)
    except RuntimeError:
        pass
