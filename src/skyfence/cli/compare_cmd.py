"""``skyfence compare``: the same traffic under two agreements, side by side."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from skyfence.cli.app import app
from skyfence.errors import SkyfenceError
from skyfence.progress import out_console, steps

out = out_console()
SHOWN = 30


@app.command("compare")
def compare_cmd(
    tracks: list[Path] = typer.Argument(..., help="Track files in any format skyfence reads."),
    agreements: list[str] = typer.Option(..., "--agreement", "-a", help="Give it twice: agreement A, then B "
                                         "(built-in name or YAML file)."),
    out_dir: Path = typer.Option(None, "--out", "-o", help="Folder for a/ and b/ (full results under each "
                                 "agreement, for report and export), compare.json and changes.csv."),
    pairs: str = typer.Option("parties", "--pairs", help="Which pairs to check for encounters: parties, "
                              "unknown or all."),
    step: float = typer.Option(2.0, "--step", help="Seconds between the instants at which aircraft are compared."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Analyse the same traffic under two agreements (a line moved, a zone added, a larger separation)
    and show crossings, encounters and warnings under each side by side, with the events that
    appear under B or vanish from A.

    Events are paired by aircraft (crossings also by area, encounters by pair) and overlapping time.
    """
    if len(agreements) != 2:
        raise SkyfenceError(f"give --agreement exactly twice (A and B), not {len(agreements)} time(s)")
    from skyfence.agreement import load_agreement
    from skyfence.analysis.outputs import prepare_dir, write_json, write_table
    from skyfence.detect.conflicts import PAIR_MODES
    from skyfence.detect.encounter_table import EncounterSettings
    from skyfence.report.compare import compare

    if pairs not in PAIR_MODES:
        raise SkyfenceError(f"--pairs must be one of {', '.join(PAIR_MODES)}, not {pairs!r}")
    if not step > 0:
        raise SkyfenceError("--step must be a positive number of seconds")
    ags = (load_agreement(agreements[0]), load_agreement(agreements[1]))
    labels = (f"A: {ags[0].name}", f"B: {ags[1].name}")
    if out_dir is not None:
        prepare_dir(out_dir)
    with steps(not quiet) as progress:
        result = compare(tracks, ags, labels, EncounterSettings(pairs=pairs, step=step), out_dir, progress)
    table = Table(title="The same traffic under two agreements")
    table.add_column("")
    table.add_column(labels[0], justify="right")
    table.add_column(labels[1], justify="right")
    table.add_column("B - A", justify="right")
    for name, a, b in result.rows:
        diff = f"{b - a:+g}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) else ""
        table.add_row(name, "–" if a is None else f"{a:g}", "–" if b is None else f"{b:g}", diff)
    out.print(table)
    ch = result.changes
    if ch.height == 0:
        out.print("No event appears or vanishes.")
    else:
        t = Table(title=f"Events that change: {ch.height}" + (f" (first {SHOWN})" if ch.height > SHOWN else ""))
        for col in ("change", "event", "start (UTC)", "aircraft", "party", "what"):
            t.add_column(col)
        for r in ch.head(SHOWN).iter_rows(named=True):
            who = r["callsign"] or r["track_id"]
            if r["other_track_id"]:
                who += f" / {r['other_callsign'] or r['other_track_id']}"
            t.add_row(r["change"] + (" under B" if r["change"] == "appears" else " from A"), r["event"],
                      r["start_time"].strftime("%Y-%m-%d %H:%M:%S"), who, r["party"] or "", r["detail"] or "")
        out.print(t)
    if out_dir is not None:
        write_json(result.as_dict(), out_dir / "compare.json")
        write_table(ch, out_dir, "changes")
        out.print(f"Results in {out_dir}/: a/, b/, compare.json, changes.csv")
