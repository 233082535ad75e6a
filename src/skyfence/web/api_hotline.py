"""The hotline as the page shows it: per channel what waits, went or died, acknowledgements awaited, and
one incident's messages to each party. A user of a party sees that party's part; others see it all."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request

from skyfence.web.api_incidents import NOT_FOUND, IdPath, incident_or_404
from skyfence.web.auth import Reader
from skyfence.web.schemas import HotlineStatusOut, IncidentHotline

router = APIRouter(prefix="/api", tags=["hotline"])


@router.get("/hotline", response_model=HotlineStatusOut)
async def hotline_status(request: Request, user: Reader) -> dict:
    """Per channel: messages pending, sent and dead, the oldest pending, the last error; the parties whose
    acknowledgement is awaited (as ``skyfence hotline status``)."""
    from skyfence.hotline.view import status

    engine = request.app.state.ctx.store.engine
    return iso_times((await asyncio.to_thread(status, engine, None, user.party)).json())


@router.get("/incidents/{incident_id}/hotline", response_model=IncidentHotline, responses=NOT_FOUND)
async def incident_hotline(request: Request, user: Reader, incident_id: IdPath) -> dict:
    """Whom the hotline told of this incident, on which channels, whether they acknowledged or by when they
    must, and the messages' text."""
    from skyfence.hotline.view import incident_hotline as view

    ctx = request.app.state.ctx
    await incident_or_404(ctx, incident_id)
    return iso_times(await asyncio.to_thread(view, ctx.store.engine, incident_id, user.party))


TIMES = ("ack_due", "last_sent_at", "created_at", "sent_at")


def iso_times(doc):
    """The hotline's times (Unix s in its tables) as ISO 8601 UTC, as every time the API gives."""
    from skyfence.incidents.model import iso

    if isinstance(doc, list):
        return [iso_times(v) for v in doc]
    if isinstance(doc, dict):
        return {k: iso(v) if k in TIMES else iso_times(v) for k, v in doc.items()}
    return doc
