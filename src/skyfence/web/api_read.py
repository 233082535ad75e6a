"""Read-only endpoints: health, who am I, the agreement, the basemap, the picture, trails, figures."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from skyfence.web.agreement_doc import agreement_geojson
from skyfence.web.auth import Reader
from skyfence.web.filters import Name, Since, party_param, since_param
from skyfence.web.basemap import layer_bytes
from skyfence.web.frames import epoch
from skyfence.web.schemas import AircraftOut, Figures, Health, UserOut, parse_since

router = APIRouter(prefix="/api")


@router.get("/health", response_model=Health, tags=["server"])
async def health(request: Request) -> dict:
    """Is the server up, does its incident store answer (``status`` is ``degraded`` while it does not), what it
    serves (live picture, a replayed recording, or the store alone), how the websocket clients are doing. Needs
    no token."""
    ctx = request.app.state.ctx
    from skyfence.incidents.model import iso

    hub = ctx.hub
    picture_time, count = None, 0
    if ctx.picture is not None:
        rows = await asyncio.to_thread(ctx.picture.aircraft)
        times = [epoch(a.get("time")) for a in rows if a.get("time") is not None]
        picture_time, count = (max(times) if times else None), len(rows)
    store = await asyncio.to_thread(_store_state, ctx.store)
    doc = {"status": "ok" if store == "ok" else "degraded", "store": store, "mode": ctx.mode,
           "time": iso(datetime.now(timezone.utc)),
           "picture_time": iso(picture_time), "aircraft": count,
           **(hub.stats() if hub else {"clients": 0, "frames_sent": 0, "frames_dropped": 0}), "replay": None,
           "feed_ended": bool(getattr(ctx.picture, "ended", False))}
    if ctx.recording is not None:
        rec = ctx.recording
        doc["replay"] = {"start": rec.start, "end": rec.end, "time": ctx.replay_start}
    return doc


def _store_state(store) -> str:
    """Whether the incident store answers now."""
    from skyfence.incidents.errors import StoreError

    try:
        store.last_seq()
    except StoreError:  # unreachable, or not answering as a store does
        return "unavailable"
    return "ok"


@router.get("/me", response_model=UserOut, tags=["server"])
async def me(user: Reader) -> dict:
    """The user of the token: name, role and party."""
    return {"name": user.name, "role": user.role, "party": user.party}


@router.get("/agreement", tags=["picture"])
async def agreement(request: Request, user: Reader) -> dict:
    """The agreement as GeoJSON: the line, the sides and zones (each with its owner's ``colour``), and
    ``parties`` [{id, name, colour}], ``bbox``, ``title``."""
    return agreement_geojson(request.app.state.ctx.agreement)


@router.get("/basemap/{layer}", tags=["picture"],
            responses={200: {"content": {"application/geo+json": {}}, "description": "a GeoJSON FeatureCollection"}})
async def basemap(layer: Literal["world", "borders", "rivers", "places", "airports"]) -> Response:
    """Natural Earth layers carried in the package, for the page's offline basemap. Needs no token."""
    return Response(layer_bytes(layer), media_type="application/geo+json",
                    headers={"Cache-Control": "public, max-age=86400"})


@router.get("/aircraft", response_model=list[AircraftOut], tags=["picture"])
async def aircraft(request: Request, user: Reader,
                   at: Annotated[datetime | None, Query(description="replay only: the moment (ISO 8601)")] = None
                   ) -> list[dict]:
    """The current air picture (in replay: the picture at ``at``, default the start of the recording)."""
    ctx = request.app.state.ctx
    if ctx.recording is not None:
        t = epoch(parse_since(at)) if at is not None else (ctx.replay_start or ctx.recording.start)
        rows = await asyncio.to_thread(ctx.recording.aircraft, t)
    elif ctx.picture is not None:
        rows = await asyncio.to_thread(ctx.picture.aircraft)
    else:
        rows = []
    return [_aircraft(a) for a in rows]


def _aircraft(a: dict) -> dict:
    from skyfence.incidents.model import iso

    out = {k: (None if isinstance(v, float) and v != v else v) for k, v in a.items()}
    out["time"] = iso(a.get("time"))
    return out


@router.get("/tracks", response_model=dict[str, list[list[float | None]]], tags=["picture"])
async def tracks(request: Request, user: Reader,
                 since: Annotated[datetime | None, Query(description="from (ISO 8601); default 5 minutes before the "
                                                                     "picture's time")] = None,
                 until: Annotated[datetime | None, Query(description="replay only: to (ISO 8601)")] = None,
                 aircraft: Name = None) -> dict:
    """Trails: ``{track_id: [[unix_s, lat, lon, alt_ft], ...]}`` since ``since``."""
    ctx = request.app.state.ctx
    since, until = parse_since(since), parse_since(until)
    if ctx.recording is not None:
        hi = epoch(until) if until else (ctx.replay_start or ctx.recording.start)
        lo = epoch(since) if since else hi - 300
        raw = await asyncio.to_thread(ctx.recording.tracks, lo, hi)
    elif ctx.picture is not None:
        if since is None:  # the picture's own clock: a replayed recording is not at the wall clock's time
            now = getattr(ctx.picture, "time", None) or datetime.now(timezone.utc)
            since = now - timedelta(minutes=5)
        raw = await asyncio.to_thread(ctx.picture.tracks, since)
    else:
        raw = {}
    out = {}
    for tid, pts in raw.items():
        if aircraft and tid != aircraft:
            continue
        out[tid] = [[epoch(p[0]), *[None if v is None or v != v else float(v) for v in p[1:4]]] for p in pts]
    return out


@router.get("/figures", response_model=Figures, tags=["incidents"])
async def figures(request: Request, user: Reader,
                  since: Since = None, party: Name = None) -> dict:
    """Incidents per day (UTC, by start time): total and by kind, severity and party; ``since`` and ``party`` as
    the incident list takes them."""
    ctx = request.app.state.ctx
    from_time, party = since_param(since), party_param(ctx.agreement, party)
    rows = await asyncio.to_thread(lambda: ctx.store.incidents(since=from_time, party=party))
    days: dict[str, dict[str, Counter]] = defaultdict(lambda: {"kind": Counter(), "severity": Counter(),
                                                               "party": Counter()})
    for inc in rows:
        start = inc.start_time if inc.start_time.tzinfo else inc.start_time.replace(tzinfo=timezone.utc)
        d = days[start.astimezone(timezone.utc).date().isoformat()]
        d["kind"][inc.kind] += 1
        d["severity"][inc.severity] += 1
        for p in inc.parties:
            d["party"][p] += 1
    out = [{"day": day, "total": sum(c["kind"].values()), "by_kind": dict(c["kind"]),
            "by_severity": dict(c["severity"]), "by_party": dict(c["party"])} for day, c in sorted(days.items())]
    return {"days": out, "total": len(rows)}
