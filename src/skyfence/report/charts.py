"""The report's charts: crossings per day, depth and duration, time of day, encounter levels per day,
warning lead times, manoeuvres. Each draws an empty period as empty axes with a word saying so."""

from __future__ import annotations

import numpy as np
import polars as pl

from skyfence.report.figures import LEVELS, Figures
from skyfence.report.results import Results
from skyfence.report.style import INTENT_COLOURS, LEVEL_COLOURS, UNKNOWN_COLOUR, new_figure


def _day_axis(ax, days) -> None:
    n = len(days)
    step = max(1, int(np.ceil(n / 12)))
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks, [days[i].strftime("%d %b") for i in ticks], rotation=0 if n <= 7 else 45,
                  ha="center" if n <= 7 else "right")
    ax.set_xlim(-0.6, max(n, 1) - 0.4)


def _counts_axis(ax, highest: float) -> None:
    """A count axis from zero, in whole numbers, at least up to one."""
    ax.set_ylim(0, max(1.0, highest * 1.08))
    ax.yaxis.get_major_locator().set_params(integer=True)


def _nothing(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#666666", fontsize=8.5)


def crossings_per_day(fig_data: Figures, colours: dict[str, str]):
    """Stacked bars of crossings per day per party, with the mean and the least-squares trend."""
    fig = new_figure(2.6)
    ax = fig.add_subplot(1, 1, 1)
    days = fig_data.days
    if not days:
        _nothing(ax, "No days of data")
        return fig
    x = np.arange(len(days))
    bottom = np.zeros(len(days))
    for p in fig_data.parties:
        ax.bar(x, p.daily, bottom=bottom, color=colours.get(p.party, UNKNOWN_COLOUR), width=0.75, label=p.party)
        bottom += np.asarray(p.daily)
    if fig_data.mean_per_day is not None:
        ax.axhline(fig_data.mean_per_day, color="#333333", lw=0.9, ls="--",
                   label=f"mean {fig_data.mean_per_day:.1f} a day")
    if fig_data.trend_per_day is not None and len(days) > 2:
        fit = np.polyfit(x, np.asarray(fig_data.daily_total, dtype=float), 1)
        ax.plot(x, np.polyval(fit, x), color="#7d3c98", lw=1.1, label=f"trend {fig_data.trend_per_day:+.2f} per day")
    if not bottom.any():
        _nothing(ax, "No crossings in this period")
    _day_axis(ax, days)
    ax.set_ylabel("crossings")
    _counts_axis(ax, max(float(bottom.max()), fig_data.mean_per_day or 0.0))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def depth_and_duration(results: Results):
    """Histograms of how deep beyond the line and how long, stacked by intent."""
    fig = new_figure(2.3)
    axes = fig.subplots(1, 2)
    cr = results.crossings.filter(pl.col("entry_kind") == "crossed")
    for ax, col, label, log in ((axes[0], "max_depth_km", "greatest depth beyond the line (km)", False),
                                (axes[1], "duration_s", "time on the wrong side (min)", False)):
        rows = cr.filter(~pl.col("open").fill_null(False)) if col == "duration_s" else cr
        values = rows[col].drop_nulls().to_numpy().astype(float)
        if col == "duration_s":
            values = values / 60.0
            cut = cr.height - rows.height  # still inside at the last report: no whole time to show
            label += f"\n({cut} still inside at the last report not shown)" if cut else ""
        ax.set_xlabel(label)
        ax.set_ylabel("crossings")
        if len(values) == 0:
            _nothing(ax, "No crossings" if rows.height == cr.height else "None over: all still inside")
            continue
        bins = np.histogram_bin_edges(values, bins=min(20, max(5, len(values) // 2)))
        groups, colours, names = [], [], []
        for intent, colour in INTENT_COLOURS.items():
            sel = rows.filter(pl.col("intent") == intent)[col].drop_nulls().to_numpy().astype(float)
            if len(sel):
                groups.append(sel / 60.0 if col == "duration_s" else sel)
                colours.append(colour)
                names.append(intent)
        ax.hist(groups, bins=bins, stacked=True, color=colours, label=names)
        ax.yaxis.get_major_locator().set_params(integer=True)
    if cr.height:
        axes[1].legend(frameon=False)
    return fig


def time_of_day(results: Results, colours: dict[str, str]):
    """Crossing entries by hour of the day (UTC), stacked by party."""
    fig = new_figure(2.0)
    ax = fig.add_subplot(1, 1, 1)
    cr = results.crossings.filter(pl.col("entry_kind") == "crossed")
    ax.set_xlabel("hour of entry (UTC)")
    ax.set_ylabel("crossings")
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlim(-0.6, 23.6)
    if cr.height == 0:
        _nothing(ax, "No crossings")
        return fig
    bottom = np.zeros(24)
    for party in sorted(cr["party"].unique().to_list()):
        hours = cr.filter(pl.col("party") == party)["entry_time"].dt.hour().to_numpy()
        counts = np.bincount(hours, minlength=24)
        ax.bar(np.arange(24), counts, bottom=bottom, width=0.8, color=colours.get(party, UNKNOWN_COLOUR), label=party)
        bottom += counts
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def encounter_levels_per_day(results: Results, days):
    """Encounters per day, stacked by their highest alert level."""
    fig = new_figure(2.3)
    ax = fig.add_subplot(1, 1, 1)
    if not days:
        _nothing(ax, "No days of data")
        return fig
    enc = results.encounters
    x = np.arange(len(days))
    bottom = np.zeros(len(days))
    for level in LEVELS:
        mine = enc.filter(pl.col("max_level") == level)
        if mine.height == 0:
            continue
        per = dict(mine.group_by(pl.col("start_time").dt.date()).len().iter_rows())
        counts = np.array([per.get(d, 0) for d in days])
        ax.bar(x, counts, bottom=bottom, width=0.75, color=LEVEL_COLOURS[level], label=level)
        bottom += counts
    if not bottom.any():
        _nothing(ax, "No encounters in this period")
    else:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    _day_axis(ax, days)
    ax.set_ylabel("encounters")
    _counts_axis(ax, float(bottom.max()))
    return fig


def warning_lead_times(results: Results, lookahead_s: float | None):
    """How long before each crossing the warning began (crossings with a warning)."""
    fig = new_figure(2.0)
    ax = fig.add_subplot(1, 1, 1)
    leads = results.crossings.filter(pl.col("entry_kind") == "crossed")["warning_lead_s"].drop_nulls().to_numpy()
    ax.set_xlabel("warning lead time before entry (s)")
    ax.set_ylabel("crossings")
    if len(leads) == 0:
        _nothing(ax, "No warned crossings")
        return fig
    hi = max(float(leads.max()), lookahead_s or 0.0)
    ax.hist(leads, bins=np.linspace(0, hi * 1.02 + 1e-9, 19), color="#2e86c1")
    ax.axvline(float(np.median(leads)), color="#333333", ls="--", lw=0.9, label=f"median {np.median(leads):.0f} s")
    if lookahead_s:
        ax.axvline(lookahead_s, color="#a93226", ls=":", lw=1.0, label=f"look-ahead {lookahead_s:.0f} s")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False)
    return fig


def manoeuvres_by_kind(results: Results, colours: dict[str, str]):
    """Manoeuvres by kind, one bar per party."""
    man = results.manoeuvres
    fig = new_figure(2.0)
    ax = fig.add_subplot(1, 1, 1)
    if man.height == 0:
        _nothing(ax, "No manoeuvres in this period")
        ax.set_yticks([])
        return fig
    kinds = sorted(man["manoeuvre"].unique().to_list())
    parties = sorted(man["party"].unique().to_list())
    height = 0.8 / len(parties)
    y = np.arange(len(kinds))
    for i, party in enumerate(parties):
        per = dict(man.filter(pl.col("party") == party).group_by("manoeuvre").len().iter_rows())
        ax.barh(y + i * height - 0.4 + height / 2, [per.get(k, 0) for k in kinds], height=height,
                color=colours.get(party, UNKNOWN_COLOUR), label=party)
    ax.set_yticks(y, [k.replace("_", " ") for k in kinds])
    ax.set_xlabel("manoeuvres")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig
