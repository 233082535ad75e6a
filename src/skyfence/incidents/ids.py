"""Incident ids derived from content: the same event seen twice, or after a restart, gets the same id.

An id is the kind's prefix and the first 16 hex digits of the SHA-256 of the kind and the key parts
(for a crossing: the aircraft, the area and the entry time; for an encounter: the pair and its start),
written in one canonical form: strings as given, datetimes as ISO 8601 UTC, numbers in ``repr``, and
sequences in order (sort a pair first if its order means nothing).

Example: ``incident_id("crossing", "4b1805", "west", entry_time)`` gives ``"CR-"`` and 16 hex digits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timezone

from skyfence.incidents.model import KINDS, iso

PREFIX = {"crossing": "CR", "encounter": "EN", "manoeuvre": "MA", "interaction": "IN"}


def _part(value) -> str:
    if isinstance(value, datetime):
        return iso(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_part(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value)
    if value is None:
        return "~"
    return str(value)


def incident_id(kind: str, *key_parts) -> str:
    """The stable id of the incident of ``kind`` that the key parts identify."""
    if kind not in KINDS:
        raise ValueError(f"unknown incident kind {kind!r} (one of {', '.join(KINDS)})")
    text = "|".join([kind, *(_part(p) for p in key_parts)])
    return f"{PREFIX[kind]}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def flare_key(kind: str, track_ids: Iterable[str], details: dict) -> str:
    """What a flare-up has in common with the incident it revives: the kind, the aircraft (as a set)
    and, where given, the area or zone and the type (of manoeuvre or interaction). A new event with
    the same key within the quiet period after the last one ended continues that incident."""
    where = details.get("area") or details.get("zone") or ""
    what = details.get("type") or ""
    return "|".join([kind, ",".join(sorted(set(track_ids))), str(where), str(what)])
