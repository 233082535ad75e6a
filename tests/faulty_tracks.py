"""Real tracks with the faults real feeds have, added where hypothesis draws them: for the tests that hold
cleaning's answers as a feed is cut or comes in batches."""

import polars as pl
from hypothesis import strategies as st

from skyfence.sources.tabular import ReadReport, from_frame
from skyfence.tracks.clean import clean_rows


def real_tracks(samples: pl.DataFrame) -> pl.DataFrame:
    """Three real aircraft, 20 minutes each: the GNSS-spoofed THY9BP, the tanker with altitude outliers, and
    the busiest other, after the row checks."""
    df, _ = from_frame(samples, "test")
    df = clean_rows(df, ReadReport())
    picks = []
    for callsign in ("THY9BP", "FAF4011"):
        ids = df.filter(pl.col("callsign") == callsign)["track_id"].unique().sort()
        picks.append(ids[0])
    busiest = df.group_by("track_id").len().sort(["len", "track_id"], descending=True)["track_id"]
    picks.append(next(i for i in busiest if i not in picks))
    out = []
    for track_id in picks:
        one = df.filter(pl.col("track_id") == track_id).sort("time")
        out.append(one.filter(pl.col("time") <= one["time"][0] + pl.duration(minutes=20)))
    return pl.concat(out)


@st.composite
def faults(draw, n: int):
    """Rows to spoil, each with a fault real feeds have: an altitude spike, a position elsewhere (alone or a
    stretch), a repeated position, a duplicate, a speed too slow for the altitude, a wild vertical rate."""
    return draw(st.lists(st.tuples(st.sampled_from(["spike", "stray", "excursion", "excursion", "stale",
                                                    "duplicate", "slow", "rate"]), st.integers(0, n - 1),
                                   st.integers(1, 120)), min_size=1, max_size=8))


def spoil(df: pl.DataFrame, spoils) -> pl.DataFrame:
    rows = df.to_dicts()
    extra, quiet = [], set()
    for kind, i, k in spoils:
        r = rows[i]
        if kind == "spike" and r["altitude"] is not None:
            r["altitude"] = r["altitude"] + (3000.0 if k % 2 else -3000.0)
        elif kind == "stray":
            r["lat"] = r["lat"] + 0.5
        elif kind == "excursion":
            for q in range(i, min(i + k, len(rows))):
                rows[q]["lon"] = rows[q]["lon"] + 0.8
        elif kind == "stale" and i > 0:
            r["lat"], r["lon"] = rows[i - 1]["lat"], rows[i - 1]["lon"]
        elif kind == "stuck" and i > 0:  # the velocity stuck a few reports longer than the position
            for q in range(i, min(i + k + 5, len(rows))):
                for c in ("lat", "lon", "ground_speed", "track", "vertical_rate") if q < i + k else (
                        "ground_speed", "track", "vertical_rate"):
                    rows[q][c] = rows[i - 1][c]
        elif kind == "nospeed":
            for q in range(i, min(i + k, len(rows))):
                rows[q]["ground_speed"] = None
        elif kind == "duplicate":
            extra.append(dict(r, lat=r["lat"] + 0.01))
        elif kind == "slow":
            r["ground_speed"] = 20.0
        elif kind == "rate":
            r["vertical_rate"] = 80.0
        elif kind == "silence":  # the aircraft out of reach for up to three minutes
            quiet.update(range(i, min(i + 5 * k, len(rows))))
    return pl.DataFrame([r for q, r in enumerate(rows) if q not in quiet] + extra, schema=df.schema)


@st.composite
def clustered_faults(draw, n: int):
    """Faults close together (within a minute of one report), where cleaning's rules meet: those of
    :func:`faults`, a feed repeating its last message (position and velocity) or losing the speed for a
    while, and an aircraft out of reach for a while."""
    centre = draw(st.integers(0, n - 1))
    kinds = st.sampled_from(["spike", "stray", "excursion", "stale", "stuck", "nospeed", "nospeed", "duplicate",
                             "slow", "rate", "silence"])
    return draw(st.lists(st.tuples(kinds, st.integers(max(centre - 60, 0), min(centre + 60, n - 1)),
                                   st.integers(1, 40)), min_size=2, max_size=10))
