"""The report's maps: crossings (entry points, the track on the wrong side coloured by intent),
encounters (both tracks around the closest point) and interactions, over the agreement's line and zones."""

from __future__ import annotations

from datetime import timedelta, timezone

import numpy as np
import polars as pl
import shapely

from skyfence.report.basemap import Extent, extent_of, label_places, new_map
from skyfence.report.labels import Labels
from skyfence.report.results import Results
from skyfence.report.style import (INTENT_COLOURS, LEVEL_COLOURS, UNKNOWN_COLOUR, WIDTH_IN, new_figure,
                                   party_colours)

CONTEXT = timedelta(minutes=10)
"""Track drawn in grey before the entry and after the exit of a crossing."""
AROUND_CLOSEST = timedelta(minutes=5)
"""Track of each aircraft drawn either side of an encounter's closest point."""
LEVEL_ORDER = ("caution", "warning", "loss", "nmac")


class TrackIndex:
    """The states around events, by aircraft, for cutting pieces of track out quickly."""

    def __init__(self, tracks: pl.DataFrame) -> None:
        self._by_id = tracks.sort("time").partition_by("track_id", as_dict=True) if tracks.height else {}

    def piece(self, track_id: str, start, end) -> pl.DataFrame | None:
        """The states of one aircraft in ``[start, end]`` (None when there are none)."""
        df = self._by_id.get((track_id,))
        if df is None or start is None or end is None:
            return None
        times = df["time"].to_numpy()
        lo = np.searchsorted(times, _naive_utc(start), side="left")
        hi = np.searchsorted(times, _naive_utc(end), side="right")
        return df.slice(int(lo), int(hi - lo)) if hi > lo else None


def _naive_utc(t) -> np.datetime64:
    if t.tzinfo is not None:
        t = t.astimezone(timezone.utc).replace(tzinfo=None)
    return np.datetime64(t, "us")


def closest_position(r: dict, tracks: TrackIndex) -> tuple[float | None, float | None]:
    """An encounter's closest point: its own columns, else midway between the two aircraft's states
    nearest the closest time (results without the columns)."""
    if r["closest_lon"] is not None and r["closest_lat"] is not None:
        return r["closest_lon"], r["closest_lat"]
    t = r["closest_time"]
    if t is None:
        return None, None
    found = []
    for tid in (r["track_a"], r["track_b"]):
        piece = tracks.piece(tid, t - timedelta(seconds=30), t + timedelta(seconds=30))
        if piece is None:
            return None, None
        i = int(np.argmin(np.abs(piece["time"].to_numpy() - _naive_utc(t))))
        found.append((piece["lon"][i], piece["lat"][i]))
    return (found[0][0] + found[1][0]) / 2, (found[0][1] + found[1][1]) / 2


def agreement_shapes(results: Results) -> dict[str, list]:
    """The agreement's ``line``, ``side`` and ``zone`` features as (shapely geometry, properties)."""
    out: dict[str, list] = {"line": [], "side": [], "zone": []}
    for f in (results.agreement or {}).get("features", []):
        kind = f.get("properties", {}).get("kind")
        if kind in out and f.get("geometry"):
            out[kind].append((shapely.geometry.shape(f["geometry"]), f["properties"]))
    return out


def map_extent(results: Results, lon: np.ndarray, lat: np.ndarray) -> Extent | None:
    shapes = agreement_shapes(results)
    return extent_of([g for g, _ in shapes["side"] + shapes["zone"] + shapes["line"]], lon, lat)


def map_figure(extent: Extent):
    """A figure of the report's width, as tall as the map needs beside a legend (within 3-6 in)."""
    ratio = (extent.east - extent.west) / max(extent.north - extent.south, 1e-9) / extent.aspect
    return new_figure(float(np.clip((WIDTH_IN - 1.6) / ratio, 3.0, 6.0)))


def draw_agreement(ax, results: Results, colours: dict[str, str]) -> None:
    """Sides tinted by owner, zones outlined and named, the line in black."""
    from skyfence.report.basemap import draw_lines, draw_polygons

    shapes = agreement_shapes(results)
    for geom, props in shapes["side"]:
        draw_polygons(ax, geom, facecolor=colours.get(props.get("owner"), UNKNOWN_COLOUR), alpha=0.06,
                      edgecolor="none", zorder=1)
    for geom, props in shapes["zone"]:
        c = colours.get(props.get("owner"), "#555555")
        draw_polygons(ax, geom, facecolor=c, alpha=0.08, edgecolor="none", zorder=1)
        draw_lines(ax, geom, color=c, linewidth=0.9, linestyle=(0, (3, 1.5)), zorder=2)
        x, y = geom.representative_point().coords[0]
        ax.annotate(props.get("name") or props.get("id"), (x, y), fontsize=6, color=c, ha="center", zorder=5)
    for geom, _ in shapes["line"]:
        draw_lines(ax, geom, color="#111111", linewidth=1.6, zorder=3)


def _empty_map(results: Results, title: str, message: str):
    extent = map_extent(results, np.empty(0), np.empty(0))
    fig = new_figure(3.2) if extent is None else map_figure(extent)
    if extent is None:
        ax = fig.add_subplot(1, 1, 1)
        ax.axis("off")
    else:
        ax = new_map(fig, extent)
        draw_agreement(ax, results, party_colours(_parties(results)))
    ax.set_title(title, loc="left")
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=9, color="#555555",
            bbox={"facecolor": "white", "edgecolor": "#cccccc", "alpha": 0.9})
    if extent is not None:
        labels = Labels()
        label_places(ax, extent, labels)
        labels.draw(ax)
    return fig


def _parties(results: Results) -> list[str]:
    return list((results.agreement or {}).get("skyfence", {}).get("parties", {}))


def crossings_map(results: Results, tracks: TrackIndex):
    """Entry points and the track while on the wrong side, coloured by intent."""
    cr = results.crossings
    if cr.height == 0:
        return _empty_map(results, "Crossings", "No crossings in this period")
    pieces, context = [], []
    for r in cr.iter_rows(named=True):
        inside = tracks.piece(r["track_id"], r["entry_time"], r["end_time"])
        xy = [] if inside is None else list(zip(inside["lon"].to_list(), inside["lat"].to_list()))
        xy = [(r["entry_lon"], r["entry_lat"]), *xy, (r["exit_lon"], r["exit_lat"])]
        pieces.append((np.array([p for p in xy if p[0] is not None and p[1] is not None], dtype=float), r))
        around = tracks.piece(r["track_id"], r["entry_time"] - CONTEXT, r["end_time"] + CONTEXT)
        if around is not None:
            context.append(np.column_stack([around["lon"].to_numpy(), around["lat"].to_numpy()]))
    lon = np.concatenate([p[:, 0] for p, _ in pieces if len(p)] or [np.empty(0)])
    lat = np.concatenate([p[:, 1] for p, _ in pieces if len(p)] or [np.empty(0)])
    extent = map_extent(results, lon, lat)
    fig = map_figure(extent)
    ax = new_map(fig, extent)
    draw_agreement(ax, results, party_colours(_parties(results)))
    labels = Labels()
    label_places(ax, extent, labels)
    from matplotlib.collections import LineCollection

    if context:
        ax.add_collection(LineCollection(context, colors="#9a9a9a", linewidths=0.5, alpha=0.8, zorder=5))
    for xy, r in pieces:
        colour = INTENT_COLOURS.get(r["intent"], INTENT_COLOURS["not assessed"])
        if len(xy) > 1:
            ax.plot(xy[:, 0], xy[:, 1], color=colour, linewidth=1.6, solid_capstyle="round", zorder=6)
        counted = r["entry_kind"] == "crossed"
        ax.plot(r["entry_lon"], r["entry_lat"], "o", ms=4.5, mec="#222222" if counted else colour, mew=0.6,
                mfc=colour if counted else "white", zorder=7)
    _intent_legend(ax, cr)
    seen = int((cr["entry_kind"] == "crossed").sum()) if cr.height else 0
    title = (f"Crossings: {seen} seen to cross (filled), {cr.height - seen} inside otherwise (hollow)"
             if cr.height > seen else f"Crossings: {seen} (entry points and track beyond the line)")
    ax.set_title(title, loc="left")
    labels.draw(ax)
    return fig


def _intent_legend(ax, cr: pl.DataFrame) -> None:
    from matplotlib.lines import Line2D

    present = [k for k in INTENT_COLOURS if k in set(cr["intent"].to_list())]
    handles = [Line2D([], [], color=INTENT_COLOURS[k], lw=1.6, marker="o", ms=4, mec="#222222", label=k)
               for k in present]
    if (cr["entry_kind"] != "crossed").any():
        handles.append(Line2D([], [], lw=0, marker="o", ms=4, mfc="white", mec="#555555",
                              label="not seen crossing (not counted)"))
    handles.append(Line2D([], [], color="#9a9a9a", lw=0.6, label="track 10 min before and after"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)


def encounters_map(results: Results, tracks: TrackIndex, colours: dict[str, str], label: int = 5):
    """Both aircraft's tracks around each closest point, the closest points coloured by level."""
    enc = results.encounters
    if enc.height == 0:
        return _empty_map(results, "Encounters", "No encounters in this period")
    where = [closest_position(r, tracks) for r in enc.iter_rows(named=True)]
    enc = enc.with_columns(pl.Series("closest_lon", [w[0] for w in where], dtype=pl.Float64),
                           pl.Series("closest_lat", [w[1] for w in where], dtype=pl.Float64))
    from matplotlib.collections import LineCollection

    segs, seg_colours = [], []
    for r in enc.iter_rows(named=True):
        t = r["closest_time"]
        for tid, party in ((r["track_a"], r["party_a"]), (r["track_b"], r["party_b"])):
            piece = tracks.piece(tid, t - AROUND_CLOSEST, t + AROUND_CLOSEST) if t is not None else None
            if piece is not None and piece.height > 1:
                segs.append(np.column_stack([piece["lon"].to_numpy(), piece["lat"].to_numpy()]))
                seg_colours.append(colours.get(party, UNKNOWN_COLOUR))
    lon, lat = enc["closest_lon"].to_numpy().astype(float), enc["closest_lat"].to_numpy().astype(float)
    extent = map_extent(results, np.concatenate([lon, *[s[:, 0] for s in segs]]),
                        np.concatenate([lat, *[s[:, 1] for s in segs]]))
    fig = map_figure(extent)
    ax = new_map(fig, extent)
    draw_agreement(ax, results, colours)
    labels = Labels()
    label_places(ax, extent, labels, towns=6, airfields=6)
    if segs:
        ax.add_collection(LineCollection(segs, colors=seg_colours, linewidths=0.9, alpha=0.85, zorder=5))
    order = enc.with_columns(pl.col("max_level").replace_strict({lv: i for i, lv in enumerate(LEVEL_ORDER)},
                                                                default=0).alias("_rank")).sort("_rank")
    for r in order.drop_nulls(["closest_lon", "closest_lat"]).iter_rows(named=True):
        ax.plot(r["closest_lon"], r["closest_lat"], "D", ms=3 + 1.2 * r["_rank"], mec="#222222", mew=0.5,
                mfc=LEVEL_COLOURS.get(r["max_level"], "#888888"), zorder=7)
    closest = enc.drop_nulls(["closest_lon"]).sort("closest_nm")
    for r in closest.unique(subset=["track_a", "track_b"], keep="first", maintain_order=True).head(label).iter_rows(
            named=True):  # each pair once, at its closest
        labels.add(r["closest_lon"], r["closest_lat"], f"{r['callsign_a'] or r['track_a']}/{r['callsign_b'] or r['track_b']}",
                   rank=0, fontsize=6, zorder=8, bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7,
                                                       "pad": 0.5})
    _level_legend(ax, set(enc["max_level"].to_list()), colours, _parties(results))
    ax.set_title(f"Encounters: {enc.height} (closest points; tracks 5 min either side)", loc="left")
    labels.draw(ax)
    return fig


def _level_legend(ax, levels: set, colours: dict[str, str], parties: list[str]) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], lw=0, marker="D", ms=4, mfc=LEVEL_COLOURS[lv], mec="#222222", label=lv)
               for lv in LEVEL_ORDER if lv in levels]
    handles += [Line2D([], [], color=colours[p], lw=1, label=p) for p in parties if p in colours]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)


INTERACTION_MARKERS = {"intercept": "^", "mock_engagement": "X", "shadowing": "o"}


def interactions_map(results: Results, tracks: TrackIndex, colours: dict[str, str]):
    """Intercepts, mock engagements and shadowing: both tracks while it lasted, a marker where."""
    inter = results.interactions
    if inter.height == 0:
        return _empty_map(results, "Interactions", "No intercepts, mock engagements or shadowing in this period")
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    segs, seg_colours = [], []
    for r in inter.iter_rows(named=True):
        for tid, party in ((r["track_id"], r["party"]), (r["other_track_id"], r["other_party"])):
            piece = tracks.piece(tid, r["start_time"], r["end_time"])
            if piece is not None and piece.height > 1:
                segs.append(np.column_stack([piece["lon"].to_numpy(), piece["lat"].to_numpy()]))
                seg_colours.append(colours.get(party, UNKNOWN_COLOUR))
    lon, lat = inter["lon"].to_numpy().astype(float), inter["lat"].to_numpy().astype(float)
    extent = map_extent(results, np.concatenate([lon, *[s[:, 0] for s in segs]]),
                        np.concatenate([lat, *[s[:, 1] for s in segs]]))
    fig = map_figure(extent)
    ax = new_map(fig, extent)
    draw_agreement(ax, results, colours)
    labels = Labels()
    label_places(ax, extent, labels, towns=6, airfields=6)
    if segs:
        ax.add_collection(LineCollection(segs, colors=seg_colours, linewidths=1.0, zorder=5))
    for kind, marker in INTERACTION_MARKERS.items():
        mine = inter.filter(pl.col("interaction") == kind)
        if mine.height:
            ax.plot(mine["lon"].to_numpy(), mine["lat"].to_numpy(), marker, ms=6, mfc="#ffffff", mec="#111111",
                    mew=0.9, lw=0, zorder=7)
    handles = [Line2D([], [], lw=0, marker=m, ms=5, mfc="white", mec="#111111", label=k.replace("_", " "))
               for k, m in INTERACTION_MARKERS.items() if k in set(inter["interaction"].to_list())]
    handles += [Line2D([], [], color=colours[p], lw=1, label=p) for p in _parties(results) if p in colours]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    ax.set_title(f"Interactions: {inter.height} (tracks while each lasted)", loc="left")
    labels.draw(ax)
    return fig
