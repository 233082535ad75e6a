"""The websocket hub: the picture once a second to every client, incident changes as they happen.

Each client has a latest-only slot for the picture and a short queue for incident changes, and its
own sender task: a slow client fills only its own slot. A frame that replaces one the client had not
taken yet is counted as dropped, and the client then gets a full frame (a delta needs the frame
before it). Incident changes follow the store with ``changes_since`` (woken at once by
``store.subscribe`` when the store is in this process, otherwise once a second); a client whose
queue overflows is told to ``resync`` (fetch the list again) instead.

A feed makes the frames: one shared live feed (the monitor's picture), or one replay feed per
client with its own clock (time, speed, playing) over a recording.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time as wall
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from skyfence.web.frames import Frame, FrameBuilder, epoch

log = logging.getLogger("skyfence.web")
EVENT_QUEUE = 256
TICK = 1.0


class Client:
    """One websocket: its latest-only picture slot and its queue of incident messages."""

    def __init__(self, send: Callable[[str | bytes], Any], name: str) -> None:
        self.send = send
        self.name = name
        self.slot: Frame | None = None
        self.need_full = True
        self.events: deque[str] = deque()
        self.wake = asyncio.Event()
        self.sent = 0
        self.dropped = 0
        self.bytes = 0
        self.feed: Feed | None = None

    def offer(self, frame: Frame) -> None:
        if self.slot is not None:
            self.dropped += 1
            self.need_full = True
        self.slot = frame
        self.wake.set()

    def push_event(self, text: str) -> None:
        if len(self.events) >= EVENT_QUEUE:
            self.events.clear()
            text = '{"type":"resync"}'
        self.events.append(text)
        self.wake.set()

    async def run(self) -> None:
        """Send whatever is waiting, in order: incident changes first, then the latest picture."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.events:
                await self._send(self.events.popleft())
            frame, self.slot = self.slot, None
            if frame is not None:
                data = frame.full_deflated if self.need_full else frame.delta_deflated
                self.need_full = False
                await self._send(data)
                self.sent += 1

    async def _send(self, data: str | bytes) -> None:
        await self.send(data)
        self.bytes += len(data)


@dataclass(eq=False)
class Feed:
    """Frames for a set of clients from one source of pictures."""

    builder: FrameBuilder = field(default_factory=FrameBuilder)
    clients: set[Client] = field(default_factory=set)
    last: Frame | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)  # steps run on worker threads

    def picture(self) -> tuple[float, list[dict], float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self) -> Frame:
        with self.lock:
            t, aircraft, rate = self.picture()
            self.last = self.builder.step(t, aircraft, rate)
            return self.last


class LiveFeed(Feed):
    """The monitor's picture (``Picture.aircraft()``); its time is the newest state in it."""

    def __init__(self, picture) -> None:
        super().__init__()  # dataclass fields: builder, clients, last, lock
        self.source = picture
        self._prev: tuple[float, float] | None = None

    def picture(self) -> tuple[float, list[dict], float]:
        aircraft = self.source.aircraft()
        times = [e for e in (epoch(a.get("time")) for a in aircraft) if e is not None]
        now = wall.time()
        t = max(times) if times else (self._prev[0] if self._prev else now)
        rate = 1.0
        if self._prev is not None and now > self._prev[1]:
            rate = max(0.0, min((t - self._prev[0]) / (now - self._prev[1]), 1000.0))
        self._prev = (t, now)
        return t, aircraft, rate


class ReplayFeed(Feed):
    """One client's replay of a recording: its own time, speed and play/pause."""

    def __init__(self, recording, start: float | None = None, speed: float = 30.0) -> None:
        super().__init__()
        self.recording = recording
        self.time = recording.start if start is None else start
        self.speed = speed
        self.playing = True
        self._wall = wall.monotonic()

    def set_clock(self, time: float | None, speed: float | None, playing: bool | None) -> None:
        with self.lock:
            self._set_clock(time, speed, playing)

    def _set_clock(self, time: float | None, speed: float | None, playing: bool | None) -> None:
        self.advance()
        if time is not None:
            self.time = min(max(float(time), self.recording.start), self.recording.end)
            self.builder.reset()
        if speed is not None:
            self.speed = min(max(float(speed), 0.0), 1000.0)
        if playing is not None:
            self.playing = bool(playing)

    def advance(self) -> None:
        now = wall.monotonic()
        if self.playing:
            self.time = min(self.time + (now - self._wall) * self.speed, self.recording.end)
        self._wall = now

    def picture(self) -> tuple[float, list[dict], float]:
        self.advance()
        rate = self.speed if self.playing and self.time < self.recording.end else 0.0
        return self.time, self.recording.aircraft(self.time), rate


class Hub:
    """Every websocket client, the feeds, and the follower of the store's changes."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.live = LiveFeed(ctx.picture) if ctx.picture is not None else None
        self.replays: set[ReplayFeed] = set()
        self.clients: set[Client] = set()
        self.seq = 0
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task] = []
        self.frames_sent_gone = 0
        self.frames_dropped_gone = 0

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self.seq = await asyncio.to_thread(self._latest_seq)
        self._wake = lambda change: self._loop.call_soon_threadsafe(self._changed.set)
        self.ctx.store.subscribe(self._wake)
        self._tasks = [asyncio.create_task(self._ticker()), asyncio.create_task(self._follow())]

    async def stop(self) -> None:
        self.ctx.store.unsubscribe(self._wake)
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _latest_seq(self) -> int:
        return self.ctx.store.last_seq()

    # -- clients -----------------------------------------------------------------------------
    def join(self, client: Client) -> None:
        self.clients.add(client)
        if self.ctx.recording is not None:
            client.feed = ReplayFeed(self.ctx.recording, self.ctx.replay_start)
            self.replays.add(client.feed)
        elif self.live is not None:
            client.feed = self.live
        if client.feed is not None:
            client.feed.clients.add(client)

    def leave(self, client: Client) -> None:
        self.clients.discard(client)
        self.frames_sent_gone += client.sent
        self.frames_dropped_gone += client.dropped
        if client.feed is not None:
            client.feed.clients.discard(client)
            if isinstance(client.feed, ReplayFeed):
                self.replays.discard(client.feed)

    async def clock(self, client: Client, msg: dict) -> None:
        """A replay client moved its clock: a new frame at once."""
        feed = client.feed
        if not isinstance(feed, ReplayFeed):
            return
        feed.set_clock(_number(msg.get("time")), _number(msg.get("speed")),
                       msg.get("playing") if isinstance(msg.get("playing"), bool) else None)
        client.offer(await asyncio.to_thread(feed.step))

    async def welcome(self, client: Client) -> None:
        """A new live client gets a picture at once: the last tick's (full, as its first frame always is), or a
        fresh one when nobody else was watching (the feed then had not stepped since)."""
        feed = self.live
        if feed is None or client.feed is not feed:
            return
        if feed.last is None or feed.clients == {client}:
            await asyncio.to_thread(feed.step)
        client.offer(feed.last)

    def stats(self) -> dict:
        return {"clients": len(self.clients),
                "frames_sent": self.frames_sent_gone + sum(c.sent for c in self.clients),
                "frames_dropped": self.frames_dropped_gone + sum(c.dropped for c in self.clients)}

    # -- the tasks ---------------------------------------------------------------------------
    async def _ticker(self) -> None:
        next_at = wall.monotonic()
        while True:
            next_at += TICK
            try:
                await self._tick()
            except Exception:  # a bad picture must not stop the page
                log.exception("picture tick failed")
            await asyncio.sleep(max(0.0, next_at - wall.monotonic()))
            if wall.monotonic() - next_at > 5 * TICK:
                next_at = wall.monotonic()

    async def _tick(self) -> None:
        feeds: list[Feed] = [f for f in self.replays if f.clients]
        if self.live is not None and (self.live.clients or self.live.last is None):
            feeds.append(self.live)
        for feed in feeds:
            frame = await asyncio.to_thread(feed.step)
            for c in list(feed.clients):
                c.offer(frame)

    async def _follow(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._changed.wait(), TICK)
            except asyncio.TimeoutError:
                pass
            self._changed.clear()
            try:
                changes = await asyncio.to_thread(self.ctx.store.changes_since, self.seq, 1000)
            except Exception as exc:  # the store went away: try again next second
                log.warning("store unreachable: %s", exc)
                continue
            for ch in changes:
                self.seq = max(self.seq, ch.seq)
                text = json.dumps({"type": "incident", "change": self.ctx.change_json(ch)}, separators=(",", ":"))
                for c in list(self.clients):
                    c.push_event(text)
            if len(changes) == 1000:
                self._changed.set()


def _number(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v else None
