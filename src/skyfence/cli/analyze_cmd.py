"""``skyfence analyze``: recorded tracks against an agreement."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from skyfence.errors import SkyfenceError
from skyfence.cli.app import app
from skyfence.progress import out_console, steps
from skyfence.cli.ingest_cmd import parse_reference

out = out_console()
MIN_STEP, MAX_STEP = 0.1, 600.0  # s: finer than reports come is meaningless (and unbounded work); coarser misses


@app.command("analyze")
def analyze_cmd(
    tracks: list[str] = typer.Argument(..., metavar="TRACKS...",
                                       help="Track files in any format skyfence reads (CSV or Parquet state vectors, "
                                            "SBS, raw Mode S frames, Beast, readsb/tar1090 JSON and traces, ADS-B "
                                            "Exchange v2, OpenSky REST, Cursor on Target), folders of them (such as "
                                            "ingest's hourly files), glob patterns ('feeds/tracks-2018*.parquet') and "
                                            "Parquet datasets partitioned by hour (hour=.../*.parquet)."),
    agreement: str = typer.Option("euphrates-2017", "--agreement", "-a",
                                  help="Built-in agreement name or agreement YAML file."),
    out_dir: Path = typer.Option(Path("out"), "--out", "-o", help="Folder for the results."),
    pairs: str = typer.Option("parties", "--pairs", help="Which pairs to check for encounters: 'parties' "
                              "(aircraft of different parties), 'unknown' (also with unknown aircraft) or 'all'."),
    step: float = typer.Option(2.0, "--step", help="Seconds between the instants at which aircraft are compared."),
    level: str = typer.Option("warning", "--encounter-level",
                              help="Lowest alert level that makes an encounter: caution, warning, loss or nmac."),
    reference: str = typer.Option(None, "--reference", help="Receiver position LAT,LON for raw Mode S and "
                                  "Beast files: decodes surface positions and single airborne ones."),
    beast_start: str = typer.Option(None, "--beast-start", help="When a Beast capture's first message was "
                                    "received (ISO 8601 UTC; by default its last message is put at the file's "
                                    "modification time)."),
    start: str = typer.Option(None, "--from", help="Only states at or after this time (ISO 8601, UTC unless a zone "
                              "is given, e.g. 2018-08-01T10:00Z); hourly files before it are not read."),
    end: str = typer.Option(None, "--to", help="Only states at or before this time (as --from)."),
    bbox: str = typer.Option(None, "--bbox", help="Only states inside W,S,E,N (degrees), e.g. 5.9,45.8,10.5,47.8."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
    cluster: str = typer.Option(None, "--cluster", help="Run on a Dask cluster: local or local:N (N worker "
                                "processes on this machine) or a scheduler address tcp://HOST:8786. The results are "
                                "the same as on one machine."),
    hours_per_task: int = typer.Option(None, "--hours-per-task", help="With --cluster: hours of data each task owns "
                                       "(default: chosen from the archive, up to a day, so that a task holds about "
                                       "a million states with its halos)."),
    halo: str = typer.Option(None, "--halo", help="With --cluster: data read on each side of a task's hours "
                             "(default: twice the longest time any detector looks across, at least '30 min')."),
) -> None:
    """Find crossings of the line and zones, and encounters between parties, in recorded tracks.

    Writes crossings.csv / .parquet (one row per crossing: who, where, entry and
    exit time and point, duration, depth, warning lead time), encounters.csv /
    .parquet (one row per encounter between two aircraft: start, end, minimum
    horizontal and vertical separation and when, highest alert level, warning
    time before a loss of separation) and summary.json (counts per party per UTC
    day, records read and dropped with the reasons), and prints a summary.
    """
    from skyfence.agreement import load_agreement
    from skyfence.analysis.inputs import parse_time, selection
    from skyfence.analysis.run import analyze
    from skyfence.cluster.archive import archive_files
    from skyfence.detect.conflicts import LEVELS, PAIR_MODES
    from skyfence.detect.encounter_table import EncounterSettings
    from skyfence.sources.formats import read_any

    if pairs not in PAIR_MODES:
        raise SkyfenceError(f"--pairs must be one of {', '.join(PAIR_MODES)}, not {pairs!r}")
    if level not in LEVELS[1:]:
        raise SkyfenceError(f"--encounter-level must be one of {', '.join(LEVELS[1:])}, not {level!r}")
    if not MIN_STEP <= step <= MAX_STEP:
        raise SkyfenceError(f"--step must be from {MIN_STEP:g} to {MAX_STEP:g} seconds, not {step:g}")
    ag = load_agreement(agreement)
    ref = parse_reference(reference)
    bstart = parse_time(beast_start, "--beast-start")
    select = selection(start, end, bbox)
    settings = EncounterSettings(pairs=pairs, step=step, level=level)
    if cluster is None and (halo is not None or hours_per_task is not None):
        raise SkyfenceError(f"{'--halo' if halo is not None else '--hours-per-task'} applies only with --cluster")
    files = archive_files(tracks)
    if cluster is not None:
        from skyfence.cluster.cli import print_run, run_cluster

        result, run = run_cluster(cluster, files, ag, out_dir, settings, hours_per_task, halo, ref, quiet, select)
    else:
        with steps(not quiet) as progress:
            result = analyze(files, ag, out_dir, progress, settings, reader=lambda path: read_any(path, reference=ref, beast_start=bstart),
                             select=select, need_records=True)
    print_summary(result.summary, result.crossings)
    out.print(f"Results in {out_dir}/: " + ", ".join(p.name for p in result.files))
    if cluster is not None:
        print_run(run, out)
        if run.failed_files or run.failed_periods:
            raise typer.Exit(1)


def print_summary(doc: dict, crossings) -> None:
    """The summary table a user reads after an analysis."""
    inp, trk, cr = doc["input"], doc["tracks"], doc["crossings"]
    out.print(f"Read {inp['records_read']:,} records from {len(inp['files'])} file(s); dropped "
              f"{inp['records_dropped']:,}" + (f" ({_reasons(inp['dropped_by_reason'])})" if inp['records_dropped'] else "")
              + (f"; values removed: {_reasons(inp['values_removed_by_reason'])}" if inp['values_removed_by_reason'] else ""))
    parties = ", ".join(f"{k} {v['aircraft']}" for k, v in trk["by_party"].items())
    out.print(f"{trk['states']:,} states, {trk['aircraft']:,} aircraft" + (f" ({parties})" if parties else "")
              + f", {trk['flights']:,} flights")
    table = Table()
    table.add_column("date (UTC)")
    table.add_column("party")
    table.add_column("crossings", justify="right")
    for row in cr["per_day"]:
        table.add_row(row["date"], row["party"], str(row["count"]))
    if cr["per_day"]:  # the heading on a line of its own: as the table's title it wrapped to the table's width
        out.print(f"Crossings: {cr['total']} (seen crossing the line or a zone's edge)")
        out.print(table)
    w = cr["warning"]
    if cr["total"]:
        lead = w["lead_time_s"]
        lead_text = f"median lead {lead['median']:.0f} s" if lead["median"] is not None else "no lead"
        out.print(f"Warned before {w['with_warning']} of {cr['total']} crossings ({lead_text}); "
                  f"{cr['open_at_end_of_track']} still inside when their flight's track ends; "
                  f"{cr['with_data_gap']} with data gaps")
    else:
        out.print("No crossings.")
    other = cr.get("other_entries", {})
    if any(v["total"] for v in other.values()):
        words = {"first_seen_inside": "already inside at their first report (first_seen_inside)",
                 "region_edge": "came in across the region's outer edge (region_edge)",
                 "zone_opened": "inside a zone when it opened (zone_opened)"}
        out.print("Not counted as crossings: " + "; ".join(
            f"{v['total']} {words[k]}" for k, v in other.items() if v["total"]))
    enc = doc.get("encounters")
    if enc is not None:
        levels = ", ".join(f"{k} {v}" for k, v in enc["by_level"].items()) or "none"
        out.print(f"Encounters ({enc['settings']['pairs']} pairs): {enc['total']} ({levels}); "
                  f"{enc['losses_of_separation']} with loss of separation")
        if enc["closest"]:
            t = Table(title="Closest approaches (over each encounter and its look-ahead)")
            for col in ("time (UTC)", "aircraft", "NM", "ft", "higher", "level"):
                t.add_column(col, no_wrap=True, justify="right" if col in ("NM", "ft") else "left")
            for r in enc["closest"]:
                name_a, name_b = r["callsign_a"] or r["track_a"], r["callsign_b"] or r["track_b"]
                higher = {"a": name_a, "b": name_b, "same": "same"}.get(r["closest_above"], "?")
                level = r["max_level"] + ("*" if r["level_interpolated"] else "")
                when = (r["closest_time"] or "?")[5:19].replace("T", " ")
                t.add_row(when, f"{name_a}/{name_b}", _num(r["closest_horizontal_nm"], 2),
                          _num(r["closest_vertical_ft"], 0), higher, level)
            out.print(t)
            if any(r["level_interpolated"] for r in enc["closest"]):
                out.print("* the level rests on positions interpolated between reports more than the agreement's "
                          "interpolation_gap apart (report_gap_at_min_s in encounters.csv).")


def _num(v, digits: int) -> str:
    return "?" if v is None else f"{v:,.{digits}f}"


def _reasons(d: dict) -> str:
    return ", ".join(f"{k}: {v:,}" for k, v in d.items())
