"""The FastAPI application: what it serves from (store, agreement, picture or recording) and how."""

from __future__ import annotations

import asyncio
import mimetypes
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware

from skyfence.agreement.model import Agreement
from skyfence.web.limits import MAX_BODY, BodyLimit
from skyfence.web.users import User, Users

mimetypes.add_type("text/javascript", ".mjs")  # MapLibre's module worker

DESCRIPTION = """\
skyfence watches an air picture against a deconfliction agreement. This API serves the agreement,
the air picture, incidents with their audit trail, the hotline to each party, and daily figures.

**Tokens.** Every request but `/api/health` and `/api/basemap` carries `Authorization: Bearer <token>`
(from `skyfence users add NAME --role viewer|officer|admin [--party P]`). A viewer reads; an officer
acknowledges and comments on its party's incidents, and resolves those of its party alone; an admin
does everything.

**Websocket `/ws`.** Send `{"type": "auth", "token": "..."}` first. The server then pushes
`{"type": "picture", ...}` once a second as a binary message, the JSON compressed with raw DEFLATE
(only the aircraft that changed; see `skyfence.web.frames`), `{"type": "incident", "change": {...}}` as incidents change, and
`{"type": "resync"}` when a client fell behind on incident changes. In replay mode a client sets its
own clock with `{"type": "clock", "time": <unix s>, "speed": 1-120, "playing": true}`.
"""


@dataclass
class WebContext:
    """What the page and the API serve: the incident store, the agreement, and either the live
    picture (``picture``: the monitor's ``Picture``) or a recording to replay, or neither."""

    store: object
    agreement: Agreement
    picture: object | None = None
    recording: object | None = None
    replay_start: float | None = None
    public: bool = False
    cors_origins: tuple[str, ...] = ()
    max_body: int = MAX_BODY
    hub: object | None = field(default=None, init=False)
    _users: Users | None = field(default=None, init=False)

    @property
    def mode(self) -> str:
        return "replay" if self.recording is not None else "live" if self.picture is not None else "store"

    @property
    def users(self) -> Users:
        if self._users is None:
            self._users = Users(self.store.engine)
        return self._users

    async def user_of(self, token: str) -> User | None:
        return await asyncio.to_thread(self.users.by_token, token)

    def incident_json(self, incident) -> dict:
        from skyfence.incidents.model import incident_json

        return incident_json(incident)

    def change_json(self, change) -> dict:
        from skyfence.incidents.model import change_json

        return change_json(change)


def static_dir() -> Path:
    return Path(str(resources.files("skyfence.web").joinpath("static")))


def create_app(ctx: WebContext) -> FastAPI:
    """The application for ``ctx``; its websocket hub starts and stops with it."""
    from skyfence.web import api_hotline, api_incidents, api_read, pages, ws
    from skyfence.web.hub import Hub

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        ctx.hub = Hub(ctx)
        await ctx.hub.start()
        try:
            yield
        finally:
            await ctx.hub.stop()

    app = FastAPI(title="skyfence", version=_version(), description=DESCRIPTION, docs_url=None, redoc_url=None,
                  lifespan=lifespan)
    app.state.ctx = ctx

    from fastapi.responses import JSONResponse

    from sqlalchemy import exc as sa_exc

    from skyfence.incidents.database import unavailable_as_error
    from skyfence.incidents.errors import StoreUnavailable

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(request, exc: StoreUnavailable):
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(sa_exc.InterfaceError)
    async def database_lost(request, exc: sa_exc.DBAPIError):
        # a read that went to the database itself (the hotline's views): the same answer as the store's own calls
        try:
            with unavailable_as_error(f"{request.method} {request.url.path}"):
                raise exc
        except StoreUnavailable as e:
            return await store_unavailable(request, e)

    app.include_router(api_read.router)
    app.include_router(api_incidents.router)
    app.include_router(api_hotline.router)
    app.include_router(ws.router)
    pages.mount(app)
    if ctx.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(ctx.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.add_middleware(BodyLimit, limit=ctx.max_body)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("skyfence")
    except PackageNotFoundError:  # pragma: no cover
        return "0"
