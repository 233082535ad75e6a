"""The one function from a table of states to the event tables.

``analyze`` calls it on a whole file, the live monitor on each tick's window, a cluster task on one
hour with its halo. Reading, cleaning and writing stay outside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from skyfence.agreement.identify import address_country
from skyfence.agreement.model import Agreement
from skyfence.analysis.behaviour import assess_crossings, interaction_table, manoeuvre_table
from skyfence.detect.crossing_table import detect_crossings
from skyfence.detect.crossings import WarningStats
from skyfence.detect.encounter_table import EncounterSettings, align_airborne, detect_encounters
from skyfence.detect.search_memo import SearchMemo
from skyfence.tracks.row_memo import RowMemo
from skyfence.progress import Steps
from skyfence.tracks.arrays import to_arrays
from skyfence.tracks.kinematics import kinematics


@dataclass
class DetectionMemo:
    """What a detection run keeps for the next one over a window moved on (the live monitor's): each instant's
    pair searches and each state's own results. Exact: the events are the same with it as without."""

    searches: SearchMemo = field(default_factory=SearchMemo)
    rows: RowMemo = field(default_factory=RowMemo)


@dataclass
class Events:
    """The event tables of one table of states, and the crossing-warning statistics per area."""

    crossings: pl.DataFrame
    encounters: pl.DataFrame
    manoeuvres: pl.DataFrame
    interactions: pl.DataFrame
    warnings: dict[str, WarningStats]
    crossing_signs: list = field(default_factory=list)  # row for row: (CrossingSigns, Boundary) judged on, or None


def detect_events(df: pl.DataFrame, agreement: Agreement, settings: EncounterSettings = EncounterSettings(),
                  progress: Steps | None = None, memo: DetectionMemo | None = None) -> Events:
    """Crossings, encounters, manoeuvres and interactions in a cleaned, identified track table
    (:func:`skyfence.analysis.load.load_tracks`), with the State of each address beside its party.

    ``memo``: what the last run kept (the live monitor keeps one from each detection run to the next: the pair
    searches of each instant, :mod:`skyfence.detect.search_memo`, and each state's own results,
    :mod:`skyfence.tracks.row_memo`); the events are the same with it or without."""
    progress = progress or Steps(None)
    rows = searches = None
    if memo is not None:
        memo.rows.start(df)
        rows, searches = memo.rows, memo.searches
    with progress.step(f"projecting {df.height:,} states"):
        tr = to_arrays(df, agreement.projection, rows)
    with progress.step("detecting crossings"):
        crossings = detect_crossings(df, tr, agreement, rows)
    with progress.step("kinematics and manoeuvres"):
        kin = kinematics(tr, df["on_ground"].fill_null(False).to_numpy(), rows)
        man = manoeuvre_table(df, tr, kin, agreement)
    with progress.step(f"aligning aircraft in time ({settings.step:g} s steps)"):
        aligned = align_airborne(df, settings.step, agreement.thresholds.crossing.data_gap)
    with progress.step(f"finding encounters ({settings.pairs} pairs)"):
        enc = detect_encounters(df, agreement.thresholds.separation, agreement.thresholds.crossing.data_gap,
                                settings, aligned, searches)
    with progress.step("finding intercepts, engagements and shadowing"):
        inter = interaction_table(df, aligned, kin, agreement, settings.pairs, settings.step, searches)
    with progress.step("assessing the intent of each crossing"):
        cross, signs = assess_crossings(crossings.table, df, tr, aligned, man, agreement)
    del tr, kin, aligned
    cross, enc, man, inter = with_countries(df, cross, enc, man, inter)
    return Events(cross, enc, man, inter, crossings.warnings, signs)


_COUNTRIES: dict[str, str | None] = {}
_COUNTRIES_KEPT = 1 << 16  # addresses (a long-running monitor sees new aircraft all day)
_UNKNOWN = object()  # not kept


def _countries(ids: set[str]) -> dict[str, str | None]:
    """The State each address was allocated to (:func:`address_country`), kept per address: the same aircraft are
    in the events of run after run. Those not kept are worked out together. The answer is built from values read
    here, so a cache cleared meanwhile (full, or by another thread: a Dask worker runs windows on threads) loses
    nothing of it."""
    found = {t: _COUNTRIES.get(t, _UNKNOWN) for t in ids}
    new = sorted(t for t, c in found.items() if c is _UNKNOWN)
    if new:
        found.update(zip(new, address_country(pl.Series("track_id", new, dtype=pl.String)).to_list()))
        if len(_COUNTRIES) + len(new) > _COUNTRIES_KEPT:
            _COUNTRIES.clear()
        _COUNTRIES.update((t, found[t]) for t in new)
    return found


def with_countries(df: pl.DataFrame, cross: pl.DataFrame, enc: pl.DataFrame, man: pl.DataFrame,
                   inter: pl.DataFrame) -> tuple[pl.DataFrame, ...]:
    """Each event table with the State of each aircraft's address, next to its party (worked out for the
    aircraft in events only, and placed by a lookup: six joins over the window's aircraft were a tenth of a
    small monitor run)."""
    columns = ((cross, "track_id"), (man, "track_id"), (enc, "track_a"), (enc, "track_b"), (inter, "track_id"),
               (inter, "other_track_id"))
    named = {t for table, col in columns if col in table.columns for t in table[col].to_list()}
    country = _countries({t for t in named if t is not None})

    def add(table: pl.DataFrame, id_col: str, name: str, after: str) -> pl.DataFrame:
        if id_col not in table.columns:
            return table
        cols = list(table.columns)
        at = cols.index(after) + 1 if after in cols else len(cols)
        values = pl.Series(name, [country.get(t) for t in table[id_col].to_list()], dtype=pl.String)
        return table.clone().insert_column(at, values)

    cross = add(cross, "track_id", "country", "party")
    man = add(man, "track_id", "country", "party")
    enc = add(add(enc, "track_a", "country_a", "party_a"), "track_b", "country_b", "party_b")
    inter = add(add(inter, "track_id", "country", "party"), "other_track_id", "other_country", "other_party")
    return cross, enc, man, inter
