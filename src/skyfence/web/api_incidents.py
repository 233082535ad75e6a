"""Incidents: the list (with the filters of ``skyfence incidents list``), one with its audit trail and
track, and the acknowledge, resolve and comment actions."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request

from skyfence.errors import SkyfenceError
from skyfence.incidents.errors import StoreUnavailable, UnknownIncident
from skyfence.web.auth import Reader, Writer
from skyfence.web.filters import Name, Since, party_param, since_param
from skyfence.web.schemas import ChangeOut, Comment, IncidentDetail, IncidentOut, Kind, Severity, Status, Why

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
IdPath = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:\-]+$")]
NOT_FOUND = {404: {"description": "no such incident"}}
WRITE = {**NOT_FOUND, 401: {"description": "no token, or an unknown one"},
         403: {"description": "the user may not change this incident"},
         409: {"description": "the store refused the change (e.g. already resolved)"},
         413: {"description": "body too large"}}


@router.get("", response_model=list[IncidentOut])
async def incidents(request: Request, user: Reader, party: Name = None, kind: Kind | None = None,
                    status: Status | None = None, severity: Severity | None = None,
                    since: Since = None,
                    aircraft: Name = None,
                    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
                    offset: Annotated[int, Query(ge=0, description="skip this many first: the next page")] = 0,
                    ) -> list[dict]:
    """Incidents, newest first, with the filters of ``skyfence incidents list``; ``limit`` and ``offset`` page
    through them (ordered by start, then id: pages do not overlap)."""
    ctx = request.app.state.ctx
    from_time, party = since_param(since), party_param(ctx.agreement, party)
    rows = await asyncio.to_thread(lambda: ctx.store.incidents(party=party, kind=kind, status=status,
                                                               severity=severity, since=from_time,
                                                               aircraft=aircraft, limit=limit, offset=offset))
    return [ctx.incident_json(i) for i in rows]


@router.get("/{incident_id}", response_model=IncidentDetail, responses=NOT_FOUND)
async def incident(request: Request, user: Reader, incident_id: IdPath) -> dict:
    """One incident with its audit trail (oldest first)."""
    ctx = request.app.state.ctx
    inc = await incident_or_404(ctx, incident_id)
    audit = await asyncio.to_thread(ctx.store.audit, incident_id)
    return {"incident": ctx.incident_json(inc), "audit": [ctx.change_json(c) for c in audit]}


@router.get("/{incident_id}/track", responses=NOT_FOUND)
async def incident_track(request: Request, user: Reader, incident_id: IdPath) -> dict:
    """The positions of the aircraft involved around the incident, as GeoJSON LineStrings (one per aircraft;
    coordinates ``[lon, lat, altitude m]`` as RFC 7946 has them, ``times`` ISO 8601 UTC), as ``incidents export``
    writes them."""
    from skyfence.incidents.export import track_coordinates, tracks_by_aircraft
    from skyfence.incidents.model import iso

    ctx = request.app.state.ctx
    await incident_or_404(ctx, incident_id)
    points = await asyncio.to_thread(ctx.store.track, incident_id)
    feats = [{"type": "Feature", "properties": {"track_id": tid, "times": [iso(p.time) for p in pts]},
              "geometry": {"type": "LineString", "coordinates": track_coordinates(pts)}}
             for tid, pts in tracks_by_aircraft(points).items()]
    return {"type": "FeatureCollection", "features": feats}


@router.post("/{incident_id}/ack", response_model=ChangeOut, responses=WRITE)
async def acknowledge(request: Request, user: Writer, incident_id: IdPath, body: Why | None = None) -> dict:
    """Acknowledge for the user's party (an admin acknowledges as ``admin``); the body (a reason) is optional."""
    body = body or Why()
    ctx = request.app.state.ctx
    await _acting_on(ctx, user, incident_id)
    return await _change(ctx, lambda: ctx.store.acknowledge(incident_id, by=user.name, party=user.party or None,
                                                            why=body.why))


@router.post("/{incident_id}/resolve", response_model=ChangeOut, responses=WRITE)
async def resolve(request: Request, user: Writer, incident_id: IdPath, body: Why | None = None) -> dict:
    """Resolve (an officer only an incident of its party alone); the body (a reason) is optional."""
    body = body or Why()
    ctx = request.app.state.ctx
    inc = await incident_or_404(ctx, incident_id)
    if not user.may_resolve(inc.parties):
        raise HTTPException(403, "an incident of several parties is resolved by an admin")
    return await _change(ctx, lambda: ctx.store.resolve(incident_id, by=user.name, why=body.why))


@router.post("/{incident_id}/comment", response_model=ChangeOut, responses=WRITE)
async def comment(request: Request, user: Writer, incident_id: IdPath, body: Comment) -> dict:
    """Add a comment to the audit trail."""
    ctx = request.app.state.ctx
    await _acting_on(ctx, user, incident_id)
    return await _change(ctx, lambda: ctx.store.comment(incident_id, by=user.name, text=body.text))


async def incident_or_404(ctx, incident_id: str):
    inc = await asyncio.to_thread(ctx.store.get, incident_id)
    if inc is None:
        raise HTTPException(404, f"no incident {incident_id}")
    return inc


async def _acting_on(ctx, user, incident_id: str):
    """The incident, if the user acts for one of its parties (an admin for all); else 404 or 403."""
    inc = await incident_or_404(ctx, incident_id)
    if not user.may_act_on(inc.parties):
        raise HTTPException(403, f"{user.name} acts for {user.party}, not a party of this incident")
    return inc


async def _change(ctx, do) -> dict:
    try:
        change = await asyncio.to_thread(do)
    except UnknownIncident as exc:
        raise HTTPException(404, str(exc)) from None
    except StoreUnavailable as exc:
        raise HTTPException(503, str(exc)) from None
    except SkyfenceError as exc:
        raise HTTPException(409, str(exc)) from None
    return ctx.change_json(change)
