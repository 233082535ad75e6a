"""Manoeuvres, interactions and the intent of each crossing, as tables."""

from __future__ import annotations

import numpy as np
import polars as pl
import shapely

from skyfence.agreement.model import Agreement
from skyfence.detect.closest import flight_starts
from skyfence.detect.conflicts import allowed_pairs
from skyfence.detect.encounter_table import Aligned
from skyfence.tracks.schema import times
from skyfence.detect.intent import (
    NEAR_M, Boundary, CrossingSigns, assess, course_changes, entry_angles, swings, turned_toward,
)
from skyfence.detect.interactions import KINDS as INTERACTIONS
from skyfence.detect.interactions import detect_interactions
from skyfence.detect.manoeuvres import KINDS as MANOEUVRES
from skyfence.detect.manoeuvres import detect_manoeuvres
from skyfence.detect.search_memo import SearchMemo
from skyfence.tracks.arrays import TrackArrays, floats
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
    return table.select([pl.col(c).cast(t) for c, t in MANOEUVRE_COLUMNS.items()]).sort(
        ["start_time", "track_id"], maintain_order=True)


def interaction_table(df: pl.DataFrame, aligned: Aligned, k: Kinematics, agreement: Agreement,
                      pairs: str, step: float, memo: SearchMemo | None = None) -> pl.DataFrame:
    """Intercepts, mock engagements and shadowing between aircraft of different parties (``memo``: see
    :mod:`skyfence.detect.search_memo`)."""
    air, snap = aligned.air, aligned.snap
    rows = aligned.table_row
    code_rows, known = aligned.parties
    sv = aligned.vectors
    flight = air["flight_id"].to_numpy().astype(np.int64)[snap.row]
    ev = detect_interactions(sv, snap.group, snap.time, flight, np.nan_to_num(k.load_factor[rows], nan=1.0),
                             snap.track, code_rows[snap.row], allowed_pairs(len(known), pairs), step,
                             agreement.thresholds.manoeuvres, memo)
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
    return table.select([pl.col(c).cast(t) for c, t in INTERACTION_COLUMNS.items()]).sort(
        ["start_time", "track_id"], maintain_order=True)


def assess_crossings(crossings: pl.DataFrame, df: pl.DataFrame, tr: TrackArrays, aligned: Aligned,
                     manoeuvres: pl.DataFrame, agreement: Agreement) -> tuple[pl.DataFrame, list]:
    """Add ``intent``, ``intent_score`` and ``intent_reasons`` to the crossings (see ``detect.intent``); and,
    row for row, what each judged crossing was judged on (``(signs, boundary)``, None for the others), so
    that a part of the data can be reassessed with the crossings made before it (:func:`with_intent`).

    Only crossings seen to happen (``entry_kind`` ``crossed``) are judged; the others get none. The work
    per crossing is bounded by its own flight's states and the aircraft around it (no pass over the
    whole table per crossing)."""
    crossings = crossings.sort(["entry_time", "track_id", "zone"], maintain_order=True)
    n = crossings.height
    judgements: list[tuple[CrossingSigns, Boundary] | None] = [None] * n
    judged = np.flatnonzero((crossings["entry_kind"] == "crossed").to_numpy()) if n else np.empty(0, np.int64)
    if len(judged):
        c = crossings[judged]
        flights = c["flight_id"].to_numpy().astype(np.int64)
        t_in = _seconds(c["entry_time"])
        t_out = _seconds(c["exit_time"])
        t_end = np.where(np.isfinite(t_out), t_out, tr.t[tr.starts[flights + 1] - 1])
        entry_row = np.minimum(tr.starts[flights] + _search_in_flights(tr, flights, t_in), tr.starts[flights + 1] - 1)
        changes = course_changes(tr.t, tr.vx, tr.vy, tr.starts, flights, t_in, t_out)
        swing = swings(tr.t, tr.vx, tr.vy, tr.starts, flights, t_in, t_end)
        toward = _toward(aligned, flights, c["party"].to_list(), t_in, t_end)
        hard = _hard_by_aircraft(manoeuvres)
        seen: dict[tuple[str, str], int] = {}  # earlier crossings of the same area by the same aircraft
        zones = c["zone"].to_list()
        ex, ey = agreement.projection.forward(c["entry_lon"].to_numpy(), c["entry_lat"].to_numpy())
        xx, xy = agreement.projection.forward(floats(c["exit_lon"]),
                                              floats(c["exit_lat"]))
        for k, row in enumerate(c.iter_rows(named=True)):
            area = agreement.area(zones[k])
            a, b = tr.starts[flights[k]], tr.starts[flights[k] + 1]
            inside = a + np.flatnonzero((tr.t[a:b] >= t_in[k]) & (tr.t[a:b] <= t_end[k]))
            near = float(np.mean(area.depth_index.distance(tr.x[inside], tr.y[inside], cap=2 * NEAR_M) <= NEAR_M)) \
                if len(inside) else 1.0
            e = entry_row[k]
            # the angle to the boundary where it came across it (none through a floor or ceiling)
            across, back = _on_boundary(area, [ex[k], xx[k]], [ey[k], xy[k]])
            angle = entry_angles(area.depth_xy, tr.x[e:e + 1], tr.y[e:e + 1], tr.vx[e:e + 1], tr.vy[e:e + 1])[0] \
                if across else np.nan
            during = tuple(m for s0, e0, m in hard.get(row["track_id"], ()) if e0 >= t_in[k] and s0 <= t_end[k])
            signs = CrossingSigns(row["max_depth_km"], row["duration_s"], angle, near, changes[k], swing[k],
                                  bool(back), toward[k], during, seen.get((row["track_id"], zones[k]), 0),
                                  bool(row["open"]))
            seen[(row["track_id"], zones[k])] = seen.get((row["track_id"], zones[k]), 0) + 1
            judgements[judged[k]] = (signs, Boundary.of(area.kind, area.name, agreement.line_name))
    return with_intent(crossings, judgements), judgements


def with_intent(crossings: pl.DataFrame, judgements: list) -> pl.DataFrame:
    """The crossings with ``intent``, ``intent_score`` and ``intent_reasons`` assessed from what each was judged
    on (row for row: ``(signs, boundary)`` or None, not judged)."""
    assessed = [assess(*j) if j is not None else (None, None, None) for j in judgements]
    labels, scores, reasons = zip(*assessed) if assessed else ((), (), ())
    return crossings.with_columns(
        pl.Series("intent", labels, dtype=pl.String), pl.Series("intent_score", scores, dtype=pl.Int64),
        pl.Series("intent_reasons", reasons, dtype=pl.String))


def _on_boundary(area, x: list[float], y: list[float], tolerance: float = 50.0) -> np.ndarray:
    """Whether each (projected) point lies on the area's line or edge; False for NaN points."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    out = np.zeros(len(x), dtype=bool)
    if ok.any():
        out[ok] = area.depth_index.distance(x[ok], y[ok], cap=2 * tolerance) <= tolerance
    return out


def _seconds(col: pl.Series) -> np.ndarray:
    return floats(col.dt.epoch("us")) / 1e6


def _search_in_flights(tr: TrackArrays, flights: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Offset, within each flight, of its first state at or after ``t``."""
    return np.array([np.searchsorted(tr.t[tr.starts[f]:tr.starts[f + 1]], tk) for f, tk in zip(flights, t)],
                    dtype=np.int64)


def _hard_by_aircraft(manoeuvres: pl.DataFrame) -> dict[str, list[tuple[float, float, str]]]:
    hard = manoeuvres.filter(pl.col("manoeuvre").is_in(["hard_turn", "weave"]))
    out: dict[str, list[tuple[float, float, str]]] = {}
    for tid, s0, e0, m in zip(hard["track_id"].to_list(), _seconds(hard["start_time"]), _seconds(hard["end_time"]),
                              hard["manoeuvre"].to_list()):
        out.setdefault(tid, []).append((s0, e0, m))
    return out


def _toward(aligned: Aligned, flights: np.ndarray, parties: list[str], t_in: np.ndarray,
            t_end: np.ndarray) -> list[str | None]:
    """For each crossing, the aircraft of another party its flight turned toward while inside (or None)."""
    snap = aligned.snap
    if len(snap) == 0:
        return [None] * len(flights)
    snap_flight = aligned.flight
    codes, known = aligned.parties
    snap_code = codes[snap.row]
    # each state's aircraft by its name's place in name order (numbers sort and group as the names do)
    names = aligned.air.select(pl.coalesce(pl.when(pl.col("callsign").str.len_chars() > 0).then("callsign"),
                                           "track_id")).to_series()
    name_of = names.unique().sort()
    # each name's place among them, by a join (ranking every state's name sorted the whole window's strings)
    place = name_of.to_frame("name").with_row_index("place")
    rank = names.to_frame("name").join(place, on="name", how="left", maintain_order="left")["place"].cast(
        pl.Int64).to_numpy()[snap.row]
    time = snap.time
    flight_start = flight_starts(snap_flight)  # a flight's states are contiguous and in time order
    n_flights = len(flight_start) - 1
    order = np.argsort(snap.group, kind="stable")
    groups_sorted = snap.group[order]
    sv = aligned.vectors
    unknown = len(known)
    hostile = {p: (snap_code != (known.index(p) if p in known else -1)) & (snap_code != unknown) for p in set(parties)}
    out = []
    for f, party, t0, t1 in zip(flights, parties, t_in, t_end):
        if f >= n_flights:
            out.append(None)
            continue
        who = turned_toward(sv.pos, sv.vel, snap.track, time, snap.group, flight_start, order, groups_sorted,
                            hostile[party], rank, int(f), t0, t1)
        out.append(None if who is None else name_of[who])
    return out
