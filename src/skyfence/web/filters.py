"""The filters the incident list and the figures share: a party of the agreement, a time to start from."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import HTTPException, Query

from skyfence.errors import SkyfenceError
from skyfence.incidents.since import since_time

Name = Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
Since = Annotated[str | None, Query(max_length=64, description="a UTC time (ISO 8601; naive is UTC), a day, or a "
                                    "duration back from now: 2h, 30 min")]


def since_param(since: str | None) -> datetime | None:
    """``since`` as a UTC time; 422 with the forms it takes when it is none of them."""
    try:
        return since_time(since, name="since")
    except SkyfenceError as e:
        raise HTTPException(422, str(e)) from None


def party_param(agreement, party: str | None) -> str | None:
    """``party`` when the agreement has it; 422 naming the agreement's parties when not (a misspelt party would
    read as a quiet day)."""
    known = [p.id for p in agreement.parties]
    if party is not None and party not in known:
        raise HTTPException(422, f"party {party!r} is not a party of agreement {agreement.name} ({', '.join(known)})")
    return party
