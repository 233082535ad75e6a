"""Matching detected events to true events by aircraft and overlapping time.

A detection matches a true event when they concern the same aircraft (the
same pair, in either order, for events between two aircraft) and their time
intervals overlap once each is widened by a tolerance.

Two ways to count. *One to one* (crossings, losses of separation: discrete
events): each true event takes at most one detection and the reverse, best
overlap first. *Overlap* (manoeuvres and interactions: episodes whose
boundaries are a matter of degree, such as a pilot pumping the speed brakes):
a true event is found when any detection overlaps it, and a detection is right
when it overlaps any true event. Timing errors always use one-to-one pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class Matches:
    """Index pairs (into truth and detections) that matched, and the sizes of both sets."""

    truth_index: np.ndarray
    detected_index: np.ndarray
    n_truth: int
    n_detected: int
    truth_found: int
    detected_right: int
    found: np.ndarray  # per true event: was it found
    @property
    def precision(self) -> float | None:
        return self.detected_right / self.n_detected if self.n_detected else None

    @property
    def recall(self) -> float | None:
        return self.truth_found / self.n_truth if self.n_truth else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)


def _key(df: pl.DataFrame, a: str, b: str | None, ordered: bool) -> pl.Series:
    if b is None:
        return df[a].cast(pl.String)
    x, y = df[a].cast(pl.String).fill_null(""), df[b].cast(pl.String).fill_null("")
    if ordered:
        return x + "|" + y
    return pl.select(pl.when(x <= y).then(x + "|" + y).otherwise(y + "|" + x)).to_series()


def match(truth: pl.DataFrame, detected: pl.DataFrame, *, tolerance: float,
          truth_cols: tuple[str, str | None, str, str] = ("track_id", None, "start_time", "end_time"),
          detected_cols: tuple[str, str | None, str, str] = ("track_id", None, "start_time", "end_time"),
          ordered: bool = False, one_to_one: bool = True) -> Matches:
    """Match on (aircraft, other aircraft or None, start, end) columns; an open end is taken as the start. Two
    events match when they share at least an instant (an event of no duration matches itself), or come within
    ``tolerance`` seconds of each other."""
    t = _spans(truth, truth_cols, ordered).with_row_index("ti")
    d = _spans(detected, detected_cols, ordered).with_row_index("di")
    j = t.join(d, on="key", suffix="_d")
    j = j.with_columns((pl.min_horizontal("e", "e_d") - pl.max_horizontal("s", "s_d")).alias("overlap"))
    j = j.filter((pl.col("overlap") > -tolerance) | (pl.col("overlap") >= 0)).sort("overlap", descending=True)
    used_t, used_d, ti, di = set(), set(), [], []
    for row_t, row_d in zip(j["ti"].to_list(), j["di"].to_list()):
        if row_t in used_t or row_d in used_d:
            continue
        used_t.add(row_t)
        used_d.add(row_d)
        ti.append(row_t)
        di.append(row_d)
    found = np.zeros(truth.height, dtype=bool)
    if one_to_one:
        found[ti] = True
        right = len(di)
    else:
        found[j["ti"].unique().to_numpy()] = True
        right = j["di"].n_unique()
    return Matches(np.array(ti, dtype=np.int64), np.array(di, dtype=np.int64), truth.height, detected.height,
                   int(found.sum()), right, found)


def _spans(df: pl.DataFrame, cols: tuple[str, str | None, str, str], ordered: bool) -> pl.DataFrame:
    """Each event as (key of its aircraft or pair, start s, end s; an open end taken as the start)."""
    a, b, start, end = cols
    s = _seconds(df[start])
    return pl.DataFrame({"key": _key(df, a, b, ordered), "s": s, "e": _seconds(df[end]).fill_null(s)})


def _seconds(s: pl.Series) -> pl.Series:
    if s.dtype == pl.String:
        s = s.str.to_datetime(time_zone="UTC", strict=False)
    return s.dt.epoch("us").cast(pl.Float64) / 1e6


def coverage(truth: pl.DataFrame, detected: pl.DataFrame, *,
             truth_cols: tuple[str, str | None, str, str] = ("track_id", None, "start_time", "end_time"),
             detected_cols: tuple[str, str | None, str, str] = ("track_id", None, "start_time", "end_time"),
             ordered: bool = False) -> float | None:
    """The share of the true events' time that detections of the same aircraft cover: what the overlap count's
    recall does not tell (a 5.7 h orbit "found" by two 10-minute pieces at its ends is 6% covered). None when
    the true events have no duration."""
    t = _spans(truth, truth_cols, ordered).with_row_index("ti")
    d = _spans(detected, detected_cols, ordered)
    total = float((t["e"] - t["s"]).clip(lower_bound=0).sum() or 0.0)
    if total <= 0:
        return None
    j = t.join(d, on="key", suffix="_d").with_columns(pl.max_horizontal("s", "s_d").alias("a"),
                                                      pl.min_horizontal("e", "e_d").alias("b"))
    j = j.filter(pl.col("b") > pl.col("a")).sort(["ti", "a"])
    covered, row, end = 0.0, None, -np.inf
    for ti, a, b in j.select("ti", "a", "b").iter_rows():
        if ti != row:
            row, end = ti, -np.inf
        if b > end:  # the union of the pieces inside this true event
            covered += b - max(a, end)
            end = b
    return covered / total
