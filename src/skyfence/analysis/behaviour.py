"""Manoeuvres, interactions and the intent of each crossing, as tables."""

from __future__ import annotations

import numpy as np
import polars as pl
import shapely

from skyfence.agreement.model import Agreement
from skyfence.detect.conflict_table import party_codes
from skyfence.detect.conflicts import StateVectors, allowed_pairs
from skyfence.detect.encounter_table import Aligned
from skyfence.tracks.schema import times
from skyfence.detect.intent import CrossingSigns, assess
from skyfence.detect.interactions import KINDS as INTERACTIONS
from skyfence.detect.interactions import detect_interactions
from skyfence.detect.manoeuvres import KINDS as MANOEUVRES
from skyfence.detect.manoeuvres import detect_manoeuvres
from skyfence.tracks.arrays import TrackArrays
from skyfence.tracks.kinematics import Kinematics
from skyfence.units import m_to_nm

MANOEUVRE_COLUMNS = {
    "track_id": pl.String, "callsign": pl.String, "party": pl.String, "manoeuvre": pl.String,
    "start_time": pl.Datetime("us", "UTC"), "end_time": pl.Datetime("us", "UTC"), "duration_s": pl.Float64,
    "peak": pl.Float64, "peak_unit": pl.String, "lat": pl.Float64, "lon": pl.Float64, "near_line_km": pl.Float64,
    "flight_id": pl.UInt32,
}
INTERACTION_COLUMNS = {
    "interaction": pl.String, "track_id": pl.String, "other_track_id": pl.String, "callsign": pl.String,
    "other_callsign": pl.String, "party": pl.String, "other_party": pl.String,
    "start_time": pl.Datetime("us", "UTC"), "end_time": pl.Datetime("us", "UTC"), "duration_s": pl.Float64,
    "closest_nm": pl.Float64, "lat": pl.Float64, "lon": pl.Float64,
}
_UNITS = {"hard_turn": "g", "weave": "g", "speed_brake": "m/s2", "climb": "m/s", "dive": "m/s", "orbit": "km"}


def manoeuvre_table(df: pl.DataFrame, tr: TrackArrays, k: Kinematics, agreement: Agreement) -> pl.DataFrame:
    """Every manoeuvre of every flight (see ``detect.manoeuvres``)."""
    ev = detect_manoeuvres(tr, k, agreement.thresholds.manoeuvres)
    if len(ev) == 0:
        return pl.DataFrame(schema=MANOEUVRE_COLUMNS)
    names = np.array(MANOEUVRES, dtype=object)[ev.kind]
    lon, lat = tr.projection.inverse(tr.x[ev.peak_row].astype(float), tr.y[ev.peak_row].astype(float))
    line = agreement.projection.geometry_forward(agreement.line)
    near = shapely.distance(line, shapely.points(tr.x[ev.peak_row], tr.y[ev.peak_row])) / 1000.0
    ident = df.select(pl.col("track_id", "callsign", "flight_id"), pl.col("party").cast(pl.String)).select(
        pl.all().gather(pl.Series(ev.first)))
    table = ident.with_columns(
        pl.Series("manoeuvre", names, dtype=pl.String), times(ev.start).alias("start_time"),
        times(ev.end).alias("end_time"), pl.Series("duration_s", ev.end - ev.start),
        pl.Series("peak", ev.peak), pl.Series("peak_unit", [_UNITS[n] for n in names], dtype=pl.String),
        pl.Series("lat", lat), pl.Series("lon", lon), pl.Series("near_line_km", near))
    return table.select([pl.col(c).cast(t) for c, t in MANOEUVRE_COLUMNS.items()]).sort(["start_time", "track_id"])


def interaction_table(df: pl.DataFrame, aligned: Aligned, k: Kinematics, agreement: Agreement,
                      pairs: str, step: float) -> pl.DataFrame:
    """Intercepts, mock engagements and shadowing between aircraft of different parties."""
    air, snap = aligned.air, aligned.snap
    rows = aligned.table_row
    code_rows, known = party_codes(air["party"])
    sv = StateVectors.from_arrays(snap.lon, snap.lat, snap.alt, snap.ground_speed, snap.track, snap.vertical_rate)
    flight = air["flight_id"].to_numpy().astype(np.int64)[snap.row]
    ev = detect_interactions(sv, snap.group, snap.time, flight, np.nan_to_num(k.load_factor[rows], nan=1.0),
                             snap.track, code_rows[snap.row], allowed_pairs(len(known), pairs), step,
                             agreement.thresholds.manoeuvres)
    if len(ev) == 0:
        return pl.DataFrame(schema=INTERACTION_COLUMNS)
    ident = df.select(pl.col("track_id", "callsign"), pl.col("party").cast(pl.String))
    a = ident.select(pl.all().gather(pl.Series(rows[ev.actor])))
    b = ident.select(pl.all().gather(pl.Series(rows[ev.other]))).rename(lambda c: f"other_{c}")
    table = pl.concat([a, b], how="horizontal").rename({"other_track_id": "other_track_id"}).with_columns(
        pl.Series("interaction", np.array(INTERACTIONS, dtype=object)[ev.kind], dtype=pl.String),
        times(ev.start).alias("start_time"), times(ev.end).alias("end_time"),
        pl.Series("duration_s", ev.end - ev.start), pl.Series("closest_nm", m_to_nm(ev.closest)),
        pl.Series("lat", (snap.lat[ev.closest_actor] + snap.lat[ev.closest_other]) / 2),
        pl.Series("lon", (snap.lon[ev.closest_actor] + snap.lon[ev.closest_other]) / 2))
    return table.select([pl.col(c).cast(t) for c, t in INTERACTION_COLUMNS.items()]).sort(["start_time", "track_id"])


def assess_crossings(crossings: pl.DataFrame, df: pl.DataFrame, tr: TrackArrays, aligned: Aligned,
                     manoeuvres: pl.DataFrame, agreement: Agreement) -> pl.DataFrame:
    """Add ``intent``, ``intent_score`` and ``intent_reasons`` to the crossings (see ``detect.intent``)."""
    if crossings.height == 0:
        return crossings.with_columns(pl.lit(None, dtype=pl.String).alias("intent"),
                                      pl.lit(None, dtype=pl.Int64).alias("intent_score"),
                                      pl.lit(None, dtype=pl.String).alias("intent_reasons"))
    line = agreement.projection.geometry_forward(agreement.line_extended)
    flight_rows = tr.starts
    snap = aligned.snap
    snap_flight = aligned.air["flight_id"].to_numpy()[snap.row]
    snap_party = aligned.air["party"].cast(pl.String).to_numpy()[snap.row]
    callsigns = aligned.air["callsign"].to_numpy()[snap.row]
    order = np.argsort(snap.group, kind="stable")
    groups_sorted = snap.group[order]
    sv = StateVectors.from_arrays(snap.lon, snap.lat, snap.alt, snap.ground_speed, snap.track, snap.vertical_rate)
    hard = manoeuvres.filter(pl.col("manoeuvre").is_in(["hard_turn", "weave"]))
    labels, scores, reasons = [], [], []
    seen: dict[str, int] = {}
    for c in crossings.sort("entry_time").iter_rows(named=True):
        f = int(c["flight_id"])
        a, b = flight_rows[f], flight_rows[f + 1]
        t_in = c["entry_time"].timestamp()
        t_out = c["exit_time"].timestamp() if c["exit_time"] is not None else tr.t[b - 1]
        inside = np.flatnonzero((tr.t[a:b] >= t_in) & (tr.t[a:b] <= t_out)) + a
        near = 1.0
        if len(inside):
            d = shapely.distance(line, shapely.points(tr.x[inside], tr.y[inside]))
            near = float(np.mean(d <= 5000.0))
        angle = _entry_angle(tr, line, a, b, t_in)
        toward = _turned_toward(snap, sv, snap_flight, snap_party, callsigns, order, groups_sorted, f, c["party"],
                                t_in, t_out)
        during = hard.filter((pl.col("track_id") == c["track_id"]) & (pl.col("end_time") >= c["entry_time"])
                             & (pl.col("start_time") <= (c["exit_time"] or c["entry_time"])))["manoeuvre"].to_list()
        signs = CrossingSigns(c["max_depth_km"], c["duration_s"], angle, near, toward, tuple(during),
                              seen.get(c["track_id"], 0))
        seen[c["track_id"]] = seen.get(c["track_id"], 0) + 1
        label, score, why = assess(signs)
        labels.append(label)
        scores.append(score)
        reasons.append(why)
    assessed = crossings.sort("entry_time").with_columns(
        pl.Series("intent", labels, dtype=pl.String), pl.Series("intent_score", scores, dtype=pl.Int64),
        pl.Series("intent_reasons", reasons, dtype=pl.String))
    return assessed.sort(["entry_time", "track_id", "zone"])


def _entry_angle(tr: TrackArrays, line, a: int, b: int, t_in: float) -> float:
    """Degrees between the aircraft's track and the line's general direction where it entered (90 = square)."""
    k = a + int(np.searchsorted(tr.t[a:b], t_in))
    k = min(max(k, a), b - 1)
    v = np.array([tr.vx[k], tr.vy[k]], dtype=float)
    if not np.all(np.isfinite(v)) or np.hypot(*v) == 0:
        return np.nan
    p = shapely.Point(tr.x[k], tr.y[k])
    s = line.project(p)
    # the line's general direction here (over 16 km), not the meander under the aircraft
    p0 = np.asarray(line.interpolate(max(s - 8000, 0)).coords[0])
    p1 = np.asarray(line.interpolate(min(s + 8000, line.length)).coords[0])
    tangent = p1 - p0
    cos = abs(np.dot(v, tangent)) / (np.hypot(*v) * np.hypot(*tangent))
    return float(np.degrees(np.arccos(np.clip(cos, 0.0, 1.0))))


def _turned_toward(snap, sv, snap_flight, snap_party, callsigns, order, groups_sorted, flight, party, t0, t1):
    """The other party's aircraft the crossing aircraft turned to point at, or None: within 100 km, its
    nose brought 30 degrees or more closer to it during the crossing and then held within 15 degrees of
    it for 45 s or more."""
    mine = np.flatnonzero((snap_flight == flight) & (snap.time >= t0) & (snap.time <= t1))
    if len(mine) < 2:
        return None
    angles: dict[str, list[tuple[float, float]]] = {}
    for i in mine:
        lo = np.searchsorted(groups_sorted, snap.group[i])
        hi = np.searchsorted(groups_sorted, snap.group[i], side="right")
        others = order[lo:hi]
        others = others[(snap_party[others] != party) & (snap_party[others] != "unknown")]
        if len(others) == 0:
            continue
        d = sv.pos[others] - sv.pos[i]
        rng = np.linalg.norm(d, axis=1)
        v = sv.vel[i]
        cos = d @ v / np.maximum(np.linalg.norm(v) * rng, 1e-9)
        off = np.degrees(np.arccos(np.clip(cos, -1, 1)))
        for j in np.flatnonzero(rng <= 100e3):
            angles.setdefault(callsigns[others[j]] or "?", []).append((snap.time[i], off[j]))
    for name, series in angles.items():
        t, off = np.array(series).T
        pointing = off <= 15.0
        if not pointing.any() or off[: np.argmax(pointing) + 1].max() - off[pointing].min() < 30.0:
            continue
        if t[pointing].max() - t[pointing].min() >= 45.0:
            return name
    return None
