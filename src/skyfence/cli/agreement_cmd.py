"""``skyfence agreement validate|show``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from skyfence.agreements import BUILTIN
from skyfence.cli.app import app
from skyfence.progress import out_console
from skyfence.units import m_to_ft

agreement_app = typer.Typer(help="Check and describe deconfliction agreements.", no_args_is_help=True)
app.add_typer(agreement_app, name="agreement")
out = out_console()


@agreement_app.command("validate")
def validate(file: str = typer.Argument(..., help="Agreement YAML file (or a built-in name).")) -> None:
    """Check an agreement file; print OK or the first problem, naming the field."""
    from skyfence.agreement import load_agreement

    from skyfence.agreement.notes import overlapping_zones

    a = load_agreement(file)
    out.print(f"OK: {a.name}: {len(a.parties)} parties, {sum(x.kind == 'side' for x in a.areas)} sides, "
              f"{sum(x.kind == 'zone' for x in a.areas)} zones")
    for note in overlapping_zones(a):
        out.print(f"note: {note}", highlight=False)


@agreement_app.command("show")
def show(
    ref: str = typer.Argument(..., help=f"Built-in agreement ({', '.join(BUILTIN)}) or YAML file."),
    geojson: Path = typer.Option(None, "--geojson", help="Also write the line, sides and zones as GeoJSON here."),
) -> None:
    """A readable summary: parties and how they are identified, the line, sides, zones, thresholds."""
    from skyfence.agreement import load_agreement
    from skyfence.units import m_to_nm

    a = load_agreement(ref)
    out.print(f"[bold]{a.title}[/]  ({a.name}, {a.source})")
    if a.description:
        out.print(a.description)
    parties = Table(title="Parties", show_lines=False)
    for col in ("id", "name", "identified by"):
        parties.add_column(col)
    for p in a.parties:
        rules = a.party_rules.get(p.id, {})
        how = "; ".join(f"{k}: {', '.join(v)}" for k, v in rules.items() if v) or "(nothing: always unknown)"
        parties.add_row(p.id, p.name, how)
    out.print(parties)
    line_km = a.projection.geometry_forward(a.line).length / 1000
    out.print(f"Line: {len(a.line.coords)} points, {line_km:.0f} km; region "
              f"{a.projection.geometry_forward(a.region).area / 1e6:,.0f} km2 (bounds {_bounds(a.region)})")
    areas = Table(title="Sides and zones")
    for col in ("id", "kind", "owner", "closed to", "floor-ceiling", "valid", "area km2"):
        areas.add_column(col)
    for ar in a.areas:
        band = f"{_alt(ar.floor)} - {_alt(ar.ceiling)}"
        valid = f"{_when(ar.valid_from)} to {_when(ar.valid_to)}" if (ar.valid_from or ar.valid_to) else "always"
        areas.add_row(ar.id, ar.kind, ar.owner or "-", ", ".join(ar.closed_to), band, valid,
                      f"{ar.polygon_xy.area / 1e6:,.0f}")
    out.print(areas)
    from skyfence.agreement.notes import overlapping_zones

    for note in overlapping_zones(a):
        out.print(f"note: {note}", highlight=False)
    c, s = a.thresholds.crossing, a.thresholds.separation
    out.print(f"Crossing: counts from {c.min_depth / 1000:g} km deep and {c.min_duration:g} s; warning look-ahead "
              f"{c.warning_lookahead:g} s; new flight after {c.flight_gap / 60:g} min gap; data gap flagged over "
              f"{c.data_gap:g} s")
    out.print(f"Separation: caution {m_to_nm(s.caution_horizontal):g} NM; minimum {m_to_nm(s.horizontal):g} NM and "
              f"{m_to_ft(s.vertical):g} ft; look-ahead {s.lookahead:g} s; NMAC {m_to_ft(s.nmac_horizontal):g} ft and "
              f"{m_to_ft(s.nmac_vertical):g} ft; vertical tolerance {m_to_ft(s.vertical_tolerance):g} ft; level "
              f"below {s.level_rate / 0.00508:g} ft/min")
    if geojson is not None:
        geojson.write_text(json.dumps(a.to_geojson()))
        out.print(f"GeoJSON written to {geojson}")


def _when(t) -> str:
    """A validity bound, short enough for the table: to the minute, or '...' when open."""
    return f"{t:%Y-%m-%d %H:%M}Z" if t is not None else "..."


def _alt(metres: float) -> str:
    if metres == float("inf"):
        return "UNL"
    if metres <= 0:
        return "SFC"
    return f"{m_to_ft(metres):,.0f} ft"


def _bounds(geom) -> str:
    w, s, e, n = geom.bounds
    return f"{w:.2f}..{e:.2f} E, {s:.2f}..{n:.2f} N"
