"""The agreement as the page draws it: line, sides and zones as GeoJSON, with parties and their colours."""

from __future__ import annotations

from skyfence.agreement.model import Agreement

# Bright on the dark map; in the agreement's party order (the report's PARTY_PALETTE, lightened).
PARTY_COLOURS = ("#4da3ff", "#ff5a5f", "#3ecf8e", "#c792ea", "#ffb86c", "#4dd0c4", "#a3b1c2")
UNKNOWN_COLOUR = "#9aa5b1"
LINE_COLOUR = "#ffc93c"


def party_colours(agreement: Agreement) -> dict[str, str]:
    """A colour per party id (stable: by the agreement's order); ``unknown`` for everyone else."""
    colours = {p.id: PARTY_COLOURS[i % len(PARTY_COLOURS)] for i, p in enumerate(agreement.parties)}
    colours["unknown"] = UNKNOWN_COLOUR
    return colours


def agreement_geojson(agreement: Agreement) -> dict:
    """A FeatureCollection of the line, sides and zones (``colour`` per feature: its owner's), plus
    ``name``, ``title``, ``line_name``, ``bbox`` ([west, south, east, north] of the region) and
    ``parties`` ([{id, name, colour}])."""
    colours = party_colours(agreement)
    doc = agreement.to_geojson()
    for f in doc["features"]:
        p = f["properties"]
        p["colour"] = LINE_COLOUR if p["kind"] == "line" else colours.get(p.get("owner") or "", UNKNOWN_COLOUR)
        if p["kind"] == "zone":
            a = agreement.area(p["id"])
            p["floor_m"] = a.floor
            p["ceiling_m"] = None if a.ceiling == float("inf") else a.ceiling
            p["valid_from"] = a.valid_from.isoformat().replace("+00:00", "Z") if a.valid_from else None
            p["valid_to"] = a.valid_to.isoformat().replace("+00:00", "Z") if a.valid_to else None
    w, s, e, n = agreement.region.bounds
    doc.update({"name": agreement.name, "title": agreement.title, "line_name": agreement.line_name,
                "bbox": [round(w, 4), round(s, 4), round(e, 4), round(n, 4)],
                "parties": [{"id": p.id, "name": p.name, "colour": colours[p.id]} for p in agreement.parties],
                "unknown_colour": UNKNOWN_COLOUR})
    return doc
