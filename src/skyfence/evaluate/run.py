"""``skyfence evaluate``: an analysis's results against the ground truth of a simulation."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from skyfence.errors import InputError
from skyfence.evaluate.match import Matches, _seconds, coverage, match

TRUTH_REQUIRED = ("event_type", "track_id", "other_track_id", "start_time", "end_time")


def read_truth(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise InputError(f"{path}: no such truth file")
    try:
        df = pl.read_csv(path, infer_schema_length=0)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"{path}: cannot read ({str(exc).splitlines()[0]})") from None
    missing = [c for c in TRUTH_REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"{path}: not a truth file (missing {', '.join(missing)})")
    return df.with_columns(pl.col("start_time", "end_time").str.to_datetime(time_zone="UTC", strict=False))


def _read_result(results: Path, stem: str) -> pl.DataFrame | None:
    for ext, reader in ((".parquet", pl.read_parquet), (".csv", pl.read_csv)):
        path = results / f"{stem}{ext}"
        if path.is_file():
            df = reader(path)
            for c in df.columns:
                if c.endswith("_time") and df.schema[c] == pl.String:
                    df = df.with_columns(pl.col(c).str.to_datetime(time_zone="UTC", strict=False))
            return df
    return None


def _stats(values) -> dict:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if len(v) == 0:
        return {"n": 0, "mean": None, "p95": None, "max": None}
    return {"n": int(len(v)), "mean": float(v.mean()), "p95": float(np.percentile(v, 95)), "max": float(v.max())}


def _row(name: str, m: Matches, timing: dict | None = None, extra: dict | None = None,
         truth: pl.DataFrame | None = None) -> dict:
    out = {"event_type": name, "truth": m.n_truth, "detected": m.n_detected, "matched": m.truth_found,
           "detected_right": m.detected_right, "precision": m.precision, "recall": m.recall, "f1": m.f1}
    if truth is not None and "reports" in truth.columns:
        # an event a sensor outage hid (fewer than two reports during it) cannot be detected
        seen = truth["reports"].cast(pl.Int64).fill_null(0).to_numpy() >= 2
        out["observable"] = int(seen.sum())
        out["recall_observable"] = float(m.found[seen].mean()) if seen.any() else None
        p, r = m.precision, out["recall_observable"]
        out["f1_observable"] = 2 * p * r / (p + r) if p and r else None
    if timing is not None:
        out["timing_error_s"] = timing
    out.update(extra or {})
    return out


def evaluate(truth: pl.DataFrame, results: Path) -> dict:
    """Per event type: counts, precision, recall, F1 and timing error; crossing-warning lead times."""
    if not results.is_dir():
        raise InputError(f"{results}: no such results folder")
    rows = []
    crossings = _read_result(results, "crossings")
    if crossings is None:
        raise InputError(f"{results}: no crossings.csv or crossings.parquet (run skyfence analyze first)")
    check_belongs(truth, results)
    truth, outside = within_analysed(truth, results)
    if "entry_kind" in crossings.columns:  # the detections are the crossings seen to happen
        crossings = crossings.filter(pl.col("entry_kind") == "crossed")
    t_cross = truth.filter(pl.col("event_type") == "crossing")
    m = match(t_cross, crossings, tolerance=30.0, detected_cols=("track_id", None, "entry_time", "exit_time"))
    entry_err = (_seconds(crossings["entry_time"])[m.detected_index] - _seconds(t_cross["start_time"])[m.truth_index]).abs()
    exit_err = (_seconds(crossings["exit_time"])[m.detected_index] - _seconds(t_cross["end_time"])[m.truth_index]).abs()
    leads = crossings["warning_lead_s"][m.detected_index].to_list() if len(m.detected_index) else []
    # timing where reports were there to see it: the reports around the entry (exit) no more than 30 s apart
    seen_in = (crossings["entry_gap_s"][m.detected_index] <= 30.0).fill_null(False).to_numpy() \
        if "entry_gap_s" in crossings.columns else np.ones(len(m.detected_index), bool)
    seen_out = (crossings["exit_gap_s"][m.detected_index] <= 30.0).fill_null(False).to_numpy() \
        if "exit_gap_s" in crossings.columns else np.ones(len(m.detected_index), bool)
    extra = {"entry_error_s": _stats(entry_err.filter(pl.Series(seen_in)).to_list()),
             "exit_error_s": _stats(exit_err.filter(pl.Series(seen_out)).to_list()),
             "entry_error_in_data_gaps_s": _stats(entry_err.filter(pl.Series(~seen_in)).to_list()),
             "exit_error_in_data_gaps_s": _stats(exit_err.filter(pl.Series(~seen_out)).to_list()),
             "warning_lead_s": _stats(leads),
             "warned": int(sum(v is not None for v in leads))}
    if "intent" in crossings.columns and "intent" in t_cross.columns and len(m.truth_index):
        true_intent = t_cross["intent"][m.truth_index].to_list()
        said = crossings["intent"][m.detected_index].to_list()
        extra["intent_agreement"] = float(np.mean([_intent_agrees(a, b) for a, b in zip(true_intent, said)]))
    rows.append(_row("crossing", m, extra["entry_error_s"], extra, t_cross))

    encounters = _read_result(results, "encounters")
    if encounters is not None:
        t_loss = truth.filter(pl.col("event_type").is_in(["close_approach", "near_collision"]))
        lost = encounters.filter(pl.col("loss_time").is_not_null())
        m = match(t_loss, lost, tolerance=30.0, truth_cols=("track_id", "other_track_id", "start_time", "end_time"),
                  detected_cols=("track_a", "track_b", "start_time", "end_time"))
        err = (_seconds(lost["loss_time"])[m.detected_index] - _seconds(t_loss["start_time"])[m.truth_index]).abs()
        rows.append(_row("loss_of_separation", m, _stats(err.to_list()), truth=t_loss))
        t_nmac = truth.filter(pl.col("event_type") == "near_collision")
        nmac = encounters.filter(pl.col("max_level") == "nmac")
        m = match(t_nmac, nmac, tolerance=30.0, truth_cols=("track_id", "other_track_id", "start_time", "end_time"),
                  detected_cols=("track_a", "track_b", "start_time", "end_time"))
        rows.append(_row("near_collision", m))

    manoeuvres = _read_result(results, "manoeuvres")
    if manoeuvres is not None:
        for kind in ("hard_turn", "speed_brake", "weave", "dive", "climb", "orbit"):
            t_m = truth.filter(pl.col("event_type") == kind)
            d_m = manoeuvres.filter(pl.col("manoeuvre") == kind)
            m = match(t_m, d_m, tolerance=20.0, one_to_one=False)
            err = (_seconds(d_m["start_time"])[m.detected_index] - _seconds(t_m["start_time"])[m.truth_index]).abs()
            rows.append(_row(kind, m, _stats(err.to_list()), {"coverage": coverage(t_m, d_m)}, truth=t_m))
    interactions = _read_result(results, "interactions")
    if interactions is not None:
        for kind in ("intercept", "mock_engagement", "shadowing"):
            t_i = truth.filter(pl.col("event_type") == kind)
            d_i = interactions.filter(pl.col("interaction") == kind)
            m = match(t_i, d_i, tolerance=60.0, truth_cols=("track_id", "other_track_id", "start_time", "end_time"),
                      detected_cols=("track_id", "other_track_id", "start_time", "end_time"),
                      ordered=kind != "mock_engagement", one_to_one=False)
            err = (_seconds(d_i["start_time"])[m.detected_index] - _seconds(t_i["start_time"])[m.truth_index]).abs()
            cov = coverage(t_i, d_i, truth_cols=("track_id", "other_track_id", "start_time", "end_time"),
                           detected_cols=("track_id", "other_track_id", "start_time", "end_time"),
                           ordered=kind != "mock_engagement")
            rows.append(_row(kind, m, _stats(err.to_list()), {"coverage": cov}, truth=t_i))
    return {"results": str(results), "events": rows, "truth_outside_analysed": outside}


def within_analysed(truth: pl.DataFrame, results: Path) -> tuple[pl.DataFrame, int]:
    """The true events that begin within the time the tracks analysed cover (``summary.json``: an analysis of
    part of the simulated day is not missing the rest), and how many were left out."""
    path = results / "summary.json"
    if not path.is_file() or truth.height == 0:
        return truth, 0
    tracks = json.loads(path.read_text(encoding="utf-8")).get("tracks", {})
    if not tracks.get("start") or not tracks.get("end"):
        return truth, 0
    start, end = (datetime.fromisoformat(tracks[k]) for k in ("start", "end"))
    inside = truth.filter(pl.col("start_time").is_between(start, end) | pl.col("start_time").is_null())
    return inside, truth.height - inside.height


def check_belongs(truth: pl.DataFrame, results: Path) -> None:
    """One clear error when the truth cannot be of the analysed tracks: its events lie outside the time the
    tracks cover (``summary.json``), or none of its aircraft was analysed."""
    path = results / "summary.json"
    if not path.is_file() or truth.height == 0:
        return
    tracks = json.loads(path.read_text(encoding="utf-8")).get("tracks", {})
    if not tracks.get("start") or not tracks.get("end"):
        return
    start, end = (datetime.fromisoformat(tracks[k]) for k in ("start", "end"))
    t0, t1 = truth["start_time"].min(), truth["end_time"].max()
    if t0 is None or t1 is None:
        return
    if t1 < start or t0 > end:
        raise InputError(f"the truth file does not belong to {results}: its events run {t0:%Y-%m-%d %H:%M} to "
                         f"{t1:%Y-%m-%d %H:%M} UTC, the analysed tracks {start:%Y-%m-%d %H:%M} to "
                         f"{end:%Y-%m-%d %H:%M} UTC")
    analysed = tracks.get("aircraft")
    ids = set(truth["track_id"].drop_nulls().to_list())
    seen = set()
    for stem in ("crossings", "encounters", "manoeuvres", "interactions"):
        table = _read_result(results, stem)
        if table is not None:
            for col in ("track_id", "track_a", "track_b", "other_track_id"):
                if col in table.columns:
                    seen |= set(table[col].cast(pl.String).drop_nulls().to_list())
    if analysed and ids and seen and not ids & seen:
        raise InputError(f"the truth file does not belong to {results}: none of its {len(ids)} aircraft appears "
                         "in any result table")


def _intent_agrees(truth_intent: str | None, said: str | None) -> bool:
    if truth_intent == "deliberate":
        return said == "likely deliberate"
    if truth_intent == "inadvertent":
        return said == "likely inadvertent"
    return True
