"""``detect_conflicts``: the conflict engine on a table of aircraft states at one instant."""

from __future__ import annotations

import numpy as np
import polars as pl

from skyfence.agreement.model import SeparationThresholds
from skyfence.detect.conflicts import (
    CAUTION, LEVELS, ConflictRules, PairFigures, StateVectors, allowed_pairs, find_conflicts,
)
from skyfence.errors import InputError
from skyfence.tracks.arrays import floats

_REQUIRED = ("lon", "lat", "altitude", "ground_speed", "track", "vertical_rate")


def party_codes(party: pl.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes ``0..k-1`` for the known parties (sorted) and ``k`` for unknown or missing."""
    if party.dtype != pl.Categorical:
        party = party.cast(pl.String).cast(pl.Categorical)
    values = party.unique()  # a handful: each one's code, then every row's by its category's number
    names = ["unknown" if v is None else v for v in values.to_list()]
    known = tuple(sorted({p for p in names if p != "unknown"}))
    lookup = {p: i for i, p in enumerate(known)}
    ids = _category_numbers(values)
    order = np.argsort(ids)
    code_of = np.array([lookup.get(p, len(known)) for p in names], dtype=np.int64)[order]
    return code_of[np.searchsorted(ids[order], _category_numbers(party))], known


def _category_numbers(party: pl.Series) -> np.ndarray:
    """Each row's category number, -1 where missing (read straight from the column: a null comes as NaN; each
    cast and fill was a query of its own, and a detection run asks for the codes of every state)."""
    raw = party.to_physical().to_numpy()
    return np.where(np.isnan(raw), -1, raw).astype(np.int64) if raw.dtype.kind == "f" else raw.astype(np.int64)


def level_code(name: str | int) -> int:
    """``'warning'`` (or ``2``) to the level's number."""
    if isinstance(name, int):
        return name
    try:
        return LEVELS.index(name.lower())
    except ValueError:
        raise ValueError(f"level must be one of {', '.join(LEVELS[1:])}, not {name!r}") from None


def detect_conflicts(states, thresholds: SeparationThresholds | None = None, *, pairs: str = "parties",
                     min_level: str | int = "caution") -> pl.DataFrame:
    """Pairs of aircraft in conflict at one instant, one row per pair, most severe first.

    ``states`` is a table (polars, pandas or a dict of columns) with
    ``track_id`` (or ``id``), ``party`` (optional; missing means unknown),
    ``lon``, ``lat`` (degrees), ``altitude`` (m), ``ground_speed`` (m/s),
    ``track`` (degrees true) and ``vertical_rate`` (m/s).

    ``pairs`` chooses which pairs are looked at: ``"parties"`` (aircraft of
    different parties), ``"unknown"`` (also a party's aircraft with an
    unknown one) or ``"all"``. Rows are returned from ``min_level`` up, with
    ``horizontal_m``/``vertical_m`` now, ``t_cpa_s``, ``d_cpa_m`` (horizontal
    miss distance), ``v_cpa_m`` (vertical at the closest point), ``t_los_s``
    (time to loss of separation) and ``level``.

    >>> import skyfence
    >>> states = {"track_id": ["a", "b"], "party": ["blue", "red"], "lon": [40.0, 40.2], "lat": [35.0, 35.0],
    ...           "altitude": [6000.0, 6000.0], "ground_speed": [200.0, 200.0], "track": [90.0, 270.0],
    ...           "vertical_rate": [0.0, 0.0]}
    >>> row = skyfence.detect_conflicts(states).row(0, named=True)
    >>> row["level"], round(row["t_los_s"])
    ('warning', 22)
    """
    df = states if isinstance(states, pl.DataFrame) else pl.DataFrame(states)
    if "track_id" not in df.columns and "id" in df.columns:
        df = df.rename({"id": "track_id"})
    missing = [c for c in ("track_id", *_REQUIRED) if c not in df.columns]
    if missing:
        raise InputError(f"states: missing column(s) {', '.join(missing)}")
    rules = ConflictRules.from_thresholds(thresholds or SeparationThresholds())
    party = df["party"] if "party" in df.columns else pl.repeat(None, df.height, dtype=pl.String, eager=True)
    code, known = party_codes(party)
    sv = StateVectors.from_arrays(*(floats(df[c]) for c in _REQUIRED))
    figs = find_conflicts(sv, rules, code=code, allowed=allowed_pairs(len(known), pairs),
                          min_level=level_code(min_level))
    return pair_table(figs, df["track_id"].cast(pl.String), party.cast(pl.String).fill_null("unknown"))


def pair_table(figs: PairFigures, ids: pl.Series, party: pl.Series) -> pl.DataFrame:
    """Pair figures as a table, most severe and most imminent first."""
    a, b = pl.Series(figs.a), pl.Series(figs.b)
    table = pl.DataFrame({
        "track_a": ids.gather(a), "track_b": ids.gather(b),
        "party_a": party.gather(a), "party_b": party.gather(b),
        "horizontal_m": figs.horizontal, "vertical_m": figs.vertical, "t_cpa_s": figs.t_cpa,
        "d_cpa_m": figs.d_cpa, "v_cpa_m": figs.v_cpa, "t_los_s": figs.t_los,
        "level": pl.Series(np.array(LEVELS, dtype=object)[figs.level.astype(np.int64)], dtype=pl.String),
        "level_code": figs.level,
    }).with_columns(pl.col(["vertical_m", "v_cpa_m", "t_los_s"]).fill_nan(None))
    return table.sort(["level_code", "t_los_s", "d_cpa_m"], descending=[True, False, False],
                      nulls_last=True).drop("level_code")


__all__ = ["CAUTION", "detect_conflicts", "level_code", "pair_table", "party_codes"]
