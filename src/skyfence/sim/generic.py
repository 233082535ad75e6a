"""A scenario for any agreement: ``skyfence simulate --agreement FILE`` without writing a scenario file.

Each party with a side of the line gets bases (the bundled airports on its
side, or else points well inside it), fighter patrols and strikes, a tanker,
and the identities its agreement rules give it (its ICAO countries and hex
ranges; a callsign prefix read from its callsign patterns). The second party
(in the agreement's order) crosses the line about seven times a day, and the
first intercepts. Civil overflights cross the region at cruise levels.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import shapely

from skyfence.agreement.model import Agreement
from skyfence.errors import SkyfenceError
from skyfence.sim.geography import airfields
from skyfence.sim.scenario import Scenario

_PREFIX = re.compile(r"^\^?\(?([A-Z]{2,7})")


def callsign_prefix(patterns: list[str], fallback: str) -> str:
    """A callsign prefix the party's patterns accept (the first literal alternative), or ``fallback``."""
    for p in patterns:
        m = _PREFIX.match(p)
        if m and re.match(p, m.group(1) + "101"):
            return m.group(1)
    return fallback


def bases_on_side(agreement: Agreement, party: str, clearance: float = 8000.0) -> list:
    """The bundled airports on the party's side (``clearance`` m from every area closed to it), else two
    points well inside its side, as scenario bases."""
    side = next((a for a in agreement.areas if a.kind == "side" and a.owner == party), None)
    if side is None:
        return []
    closed = shapely.union_all([a.polygon_xy for a in agreement.areas if party in a.closed_to])
    proj = agreement.projection
    found = []
    for f in airfields().values():
        p = shapely.Point(*np.ravel(proj.forward(f.lon, f.lat)))
        if side.polygon_xy.contains(p) and (closed.is_empty or closed.distance(p) >= clearance):
            found.append(f.icao)
    if found:
        return found[:4]
    inner = side.polygon_xy.buffer(-clearance)
    if inner.is_empty:
        inner = side.polygon_xy
    points = [inner.representative_point(), inner.centroid if inner.contains(inner.centroid) else None]
    out = []
    for k, p in enumerate(x for x in points if x is not None):
        lon, lat = proj.inverse(p.x, p.y)
        out.append({"name": f"{party}-base-{k + 1}", "lon": round(float(lon), 4), "lat": round(float(lat), 4)})
    return out


DEFAULT_DAY = "2018-08-01T00:00:00Z"


def first_day(agreement: Agreement) -> str:
    """The start of the UTC day the agreement's first zone opens (so that the simulated day has it active), or
    ``DEFAULT_DAY`` when no zone has a start."""
    opens = [a.valid_from for a in agreement.areas if a.valid_from is not None]
    if not opens:
        return DEFAULT_DAY
    return min(opens).strftime("%Y-%m-%dT00:00:00Z")


def scenario_for(agreement: Agreement, start: str = DEFAULT_DAY) -> Scenario:
    """A day's scenario over the agreement (see the module docstring)."""
    parties, sorties = {}, []
    for k, party in enumerate(agreement.parties):
        rules = agreement.party_rules.get(party.id, {})
        bases = bases_on_side(agreement, party.id)
        if not bases:
            continue
        identity = {"countries": rules.get("countries", []), "hex_ranges": rules.get("hex_ranges", [])}
        if not identity["countries"] and not identity["hex_ranges"]:
            identity["hex_ranges"] = [f"{0xF00000 + k * 0x1000:06X}-{0xF00FFF + k * 0x1000:06X}"]
        parties[party.id] = {"identity": identity, "bases": bases}
        prefix = callsign_prefix(rules.get("callsigns", []), f"{re.sub('[^A-Z]', '', party.id.upper())[:5]:X<2}")
        sorties += [{"party": party.id, "type": "F-16", "mission": "cap", "per_day": 8, "callsign": prefix},
                    {"party": party.id, "type": "F-15E", "mission": "strike", "per_day": 6, "callsign": prefix},
                    {"party": party.id, "type": "KC-135", "mission": "tanker", "per_day": 2, "callsign": prefix}]
    if len(parties) < 2:
        raise SkyfenceError(f"{agreement.source}: simulating needs two parties with a side of the line each")
    first, second = list(parties)[:2]
    from skyfence.agreements import BUILTIN

    ref = agreement.name if agreement.source == f"built-in agreement {agreement.name}" and agreement.name in BUILTIN \
        else str(Path(agreement.source).resolve())
    doc = {"name": f"{agreement.name}-generic", "agreement": ref, "start": start,
           "parties": parties, "sorties": sorties,
           "civil": {"per_day": 24, "identity": {"hex_ranges": ["F80000-F8FFFF"]}, "callsigns": ["CIV"]},
           "crossings": {"party": second, "per_day": 7, "interceptor_party": first}}
    return Scenario.model_validate(doc)
