"""``skyfence evaluate``: detections against ground truth."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from skyfence.cli.app import app
from skyfence.progress import out_console

out = out_console()


@app.command("evaluate")
def evaluate_cmd(
    truth: Path = typer.Option(..., "--truth", help="Ground truth CSV from skyfence simulate."),
    results: Path = typer.Option(..., "--results", help="Folder written by skyfence analyze."),
    json_path: Path = typer.Option(None, "--json", help="Where to write the figures (default RESULTS/evaluation.json)."),
) -> None:
    """Compare detected events with the simulation's ground truth.

    For each event type: how many were injected and detected, precision, recall,
    F1, the timing error of matched events and, for crossings, the warning lead
    time. A detection matches a true event of the same aircraft (or pair) whose
    time overlaps it.
    """
    from skyfence.analysis.outputs import write_json
    from skyfence.evaluate.run import evaluate, read_truth

    doc = evaluate(read_truth(truth), results)
    target = json_path or results / "evaluation.json"
    write_json(doc, target)
    print_evaluation(doc)
    out.print(f"Figures in {target}")


def print_evaluation(doc: dict) -> None:
    t = Table(title="Detection against ground truth")
    for col in ("event", "truth", "detected", "right", "found", "precision", "recall", "time covered",
                "timing error s (mean/max)"):
        t.add_column(col, justify="right" if col != "event" else "left")
    for r in doc["events"]:
        timing = r.get("timing_error_s") or {}
        tim = f"{timing['mean']:.2f} / {timing['max']:.2f}" if timing.get("mean") is not None else "-"
        t.add_row(r["event_type"], str(r["truth"]), str(r["detected"]), str(r.get("detected_right", "")),
                  str(r["matched"]), _pct(r["precision"]),
                  _pct(r["recall"]), _pct(r.get("coverage")), tim)
    out.print(t)
    if doc.get("truth_outside_analysed"):
        out.print(f"{doc['truth_outside_analysed']} true event(s) beginning outside the time the tracks analysed "
                  "cover were left out.")
    out.print("right: detections that match a true event (same aircraft, or pair, and overlapping in time); found: "
              "true events detected. precision = right / detected; recall = found / truth; a true event detected in "
              "two parts is two right detections and one found; time covered: the share of the true manoeuvres' "
              "and interactions' time that detections cover (a long orbit found only at its ends is found, but "
              "little covered). '-': none to count. "
              "Crossings count only those seen to happen (entry_kind crossed).")
    cross = next((r for r in doc["events"] if r["event_type"] == "crossing"), None)
    if cross and cross["warning_lead_s"]["n"]:
        lead = cross["warning_lead_s"]
        out.print(f"Crossing warnings: {cross['warned']} of {cross['matched']} matched crossings warned, lead time "
                  f"mean {lead['mean']:.0f} s (p95 {lead['p95']:.0f} s, max {lead['max']:.0f} s)")
    if cross and cross.get("intent_agreement") is not None:
        out.print(f"Intent: {cross['intent_agreement']:.0%} of matched crossings classed as injected")


def _pct(v) -> str:
    return "-" if v is None else f"{v:.3f}"
