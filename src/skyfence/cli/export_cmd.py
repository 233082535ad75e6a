"""``skyfence export``: a results folder's events, or one aircraft's track, for GIS tools and Google Earth."""

from __future__ import annotations

from pathlib import Path

import typer

from skyfence.cli.app import app
from skyfence.errors import SkyfenceError
from skyfence.progress import out_console

out = out_console()
BUILTIN_PREFIX = "built-in agreement "


@app.command("export")
def export_cmd(
    results: Path = typer.Argument(..., help="A results folder written by skyfence analyze."),
    fmt: str = typer.Option(..., "--to", help="geojson, kml or csv."),
    out_file: Path = typer.Option(..., "--out", "-o", help="The file to write."),
    aircraft: str = typer.Option(None, "--aircraft", help="Export this aircraft's track (ICAO 24-bit address, "
                                 "hex) instead of the events: one line per flight."),
    tracks: list[Path] = typer.Option(None, "--tracks", help="The analysed track files, for an aircraft's whole "
                                      "track (without them: only its states around events, from the folder)."),
    agreement: str = typer.Option(None, "--agreement", "-a", help="Agreement that assigns parties to --tracks "
                                  "(default: the one the folder was analysed with)."),
) -> None:
    """Export the crossings (entry point, track beyond the line), encounters (closest point, both
    tracks 5 minutes either side) and interactions (position, both tracks while they lasted) of a
    results folder, with altitude.

    GeoJSON opens in QGIS and geojson.io (coordinates: longitude, latitude, altitude in metres); KML
    in Google Earth (altitude absolute, coloured by party, with time spans); CSV has one row per point
    or track with its geometry as WKT. With --aircraft, one aircraft's track instead (CSV: one row per state).
    """
    import polars as pl

    from skyfence.report.export import FORMATS, write_features
    from skyfence.report.features import aircraft_features, event_features
    from skyfence.report.results import load_results

    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise SkyfenceError(f"--to must be one of {', '.join(FORMATS)}, not {fmt!r}")
    from skyfence.report.results import results_folders

    folders = results_folders([results])
    if len(folders) > 1:
        raise SkyfenceError(f"{results}: matches {len(folders)} folders; export takes one results folder")
    res = load_results(folders[0])
    parties = list((res.agreement or {}).get("skyfence", {}).get("parties", {}))
    if aircraft is None:
        features = event_features(res)
        write_features(features, fmt, out_file, f"skyfence events, {res.agreement_name}", parties)
        kinds = {}
        for f in features:
            kinds[f.event_id.split("-")[0]] = kinds.get(f.event_id.split("-")[0], set()) | {f.event_id}
        counts = ", ".join(f"{len(v)} {k}s" for k, v in kinds.items()) or "no events"
        crossed = res.crossings.filter(pl.col("entry_kind") == "crossed").height if "entry_kind" in \
            res.crossings.columns else None
        if crossed is not None and "crossing" in kinds and crossed != len(kinds["crossing"]):
            counts = counts.replace(f"{len(kinds['crossing'])} crossings",
                                    f"{len(kinds['crossing'])} crossings ({crossed} seen to cross, the others "
                                    "inside without being seen to cross)")
        out.print(f"Exported {counts} ({len(features)} features) -> {out_file}")
        return
    icao = aircraft.strip().lower()
    states, whole = _aircraft_states(res, icao, tracks, agreement)
    if states.height == 0:
        where = "the track files" if whole else "this folder's events (give --tracks FILE... for its whole track)"
        raise SkyfenceError(f"aircraft {icao} is not in {where}")
    if fmt == "csv":
        from skyfence.report.export import write_states_csv

        try:
            out_file.parent.mkdir(parents=True, exist_ok=True)
            write_states_csv(states, out_file)
        except OSError as exc:
            raise SkyfenceError(f"{out_file}: cannot write ({exc.strerror})") from None
    else:
        write_features(aircraft_features(states, icao), fmt, out_file, f"skyfence aircraft {icao}", parties)
    scope = "whole track" if whole else "states around its events only (give --tracks for the whole track)"
    out.print(f"Exported {states.height:,} states of {icao}, {scope} -> {out_file}")


def _aircraft_states(res, icao: str, tracks: list[Path] | None, agreement: str | None):
    """The aircraft's states: from the track files (cleaned, identified) or from the folder's event tracks."""
    import polars as pl

    if not tracks:
        return res.tracks.filter(pl.col("track_id") == icao), False
    from skyfence.agreement import load_agreement
    from skyfence.analysis.load import load_tracks

    source = agreement or res.summary.get("agreement", {}).get("source", "")
    source = source[len(BUILTIN_PREFIX):] if source.startswith(BUILTIN_PREFIX) else source
    if not source:
        raise SkyfenceError("cannot tell which agreement the folder was analysed with: give --agreement")
    df, _ = load_tracks(tracks, load_agreement(source))
    return df.filter(pl.col("track_id") == icao), True
