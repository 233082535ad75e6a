"""SBS-1 / BaseStation (port 30003): comma-separated MSG lines, parsed a chunk at a time.

``MSG,type,session,aircraft,hex,flight,date_gen,time_gen,date_log,time_log,
callsign,altitude,groundspeed,track,lat,lon,vertical_rate,squawk,alert,
emergency,spi,is_on_ground``. Types 1 (identification), 2 (surface position),
3 (airborne position), 4 (velocity), 5 (altitude), 6 (squawk), 7 (air to
air) and 8 (all call) are merged into states per aircraft
(:mod:`skyfence.sources.states`). Times are the generated date and time,
taken as UTC. A line that is not a valid MSG line is counted, never fatal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from skyfence.sources.states import MESSAGE_SCHEMA, StateBuilder
from skyfence.sources.tabular import ReadReport
from skyfence.sources.textio import text_lines
from skyfence.tracks.schema import drop_invalid_times

IDENT_REPEAT = 300.0  # s between repeated identification (MSG,1) lines when writing SBS
_FIELDS = ["msg", "type", "session", "aircraft", "hex", "flight", "date_gen", "time_gen", "date_log", "time_log",
           "callsign", "altitude", "groundspeed", "track", "lat", "lon", "vertical_rate", "squawk", "alert",
           "emergency", "spi", "on_ground"]


NUMERIC = ("altitude", "groundspeed", "track", "lat", "lon", "vertical_rate")
MALFORMED = "malformed SBS line"


def parse_lines(lines: list[str], bad: Counter) -> pl.DataFrame:
    """SBS lines to the message table; bad lines are counted in ``bad`` by reason.

    A line is bad if it is not ``MSG`` of type 1-8 with all 22 fields (a line cut short, even inside
    its last number, lacks the fields after it), a six-digit hex address and a date and time, or if a
    number field holds text, NaN or infinity, or only one of latitude and longitude. Text glued before
    a line (a cut record, garbage) is counted and the line after it kept. Impossible times are counted
    by :func:`skyfence.tracks.schema.drop_invalid_times`.
    """
    if not lines:
        return pl.DataFrame(schema=MESSAGE_SCHEMA)
    glued = 0
    for k, line in enumerate(lines):
        at = line.rfind("MSG,")
        if at > 0:  # garbage or a cut record before a MSG line: counted, the line after it kept
            if line[:at].strip():
                glued += 1
            lines[k] = line[at:]
    if glued:
        bad[MALFORMED] += glued
    raw = pl.DataFrame({"line": lines}, schema={"line": pl.String}).with_columns(pl.col("line").str.strip_chars())
    raw = raw.filter(pl.col("line").str.len_chars() > 0)
    whole = pl.col("line").str.count_matches(",", literal=True) >= len(_FIELDS) - 1
    parts = raw.select(whole.alias("_whole"),
                       pl.col("line").str.split_exact(",", len(_FIELDS) - 1).alias("p")).unnest("p")
    parts.columns = ["_whole", *_FIELDS]
    ok_shape = pl.col("_whole") & (pl.col("msg") == "MSG") & pl.col("type").is_in([str(k) for k in range(1, 9)])
    hexes = pl.col("hex").str.strip_chars().str.to_lowercase()
    stamp = (pl.col("date_gen").str.strip_chars() + " " + pl.col("time_gen").str.strip_chars()).str.to_datetime(
        "%Y/%m/%d %H:%M:%S%.f", time_unit="us", strict=False)

    def text(c):
        return pl.col(c).str.strip_chars()

    def num(c):
        return text(c).cast(pl.Float64, strict=False)

    # a number field that holds something other than a finite number spoils the line
    numbers_ok = pl.all_horizontal([(text(c).fill_null("") == "") | num(c).is_finite().fill_null(False)
                                    for c in NUMERIC])
    half_position = num("lat").is_null() != num("lon").is_null()
    table = parts.select(
        (ok_shape & numbers_ok & ~half_position).alias("_ok"),
        hexes.alias("icao24"),
        stamp.dt.epoch("us").cast(pl.Float64).truediv(1e6).alias("time"),
        pl.col("callsign").str.strip_chars().alias("callsign"),
        num("lat").alias("lat"), num("lon").alias("lon"), num("altitude").alias("altitude"),
        num("groundspeed").alias("groundspeed"), num("track").alias("track"),
        num("vertical_rate").alias("vertical_rate"),
        pl.col("on_ground").str.strip_chars().is_in(["-1", "1"]).alias("on_ground"),
        pl.col("type"),
    )
    good = table["_ok"].fill_null(False) & table["icao24"].str.contains(r"^[0-9a-f]{6}$").fill_null(False) \
        & table["time"].is_not_null()
    n_bad = int((~good).sum())
    if n_bad:
        bad[MALFORMED] += n_bad
    table = drop_invalid_times(table.filter(good), bad)
    # an empty field is no value; on_ground only means something when the field was given
    table = table.with_columns(
        pl.when(pl.col("callsign").str.len_chars() > 0).then(pl.col("callsign")).otherwise(None).alias("callsign"),
        pl.when(pl.col("type").is_in(["2", "3", "5", "6", "7", "8"]) | pl.col("on_ground"))
        .then(pl.col("on_ground")).otherwise(None).alias("on_ground"),
    )
    return table.select(list(MESSAGE_SCHEMA))


def read_sbs(path: str | Path, chunk: int = 200_000) -> tuple[pl.DataFrame, ReadReport]:
    """A recorded SBS file as canonical states."""
    path = Path(path)
    report = ReadReport(files=[str(path)])
    builder = StateBuilder(path.name, hold_last_moment=True)
    frames, lines = [], []
    for line in text_lines(path, report.dropped):
        lines.append(line)
        if len(lines) >= chunk:
            frames.append(builder.feed(parse_lines(lines, report.dropped)))
            report.rows_read += len(lines)
            lines = []
    if lines:
        frames.append(builder.feed(parse_lines(lines, report.dropped)))
        report.rows_read += len(lines)
    frames.append(builder.flush())
    return pl.concat(frames), report


def to_sbs_lines(df: pl.DataFrame) -> list[str]:
    """States in the canonical schema as SBS lines: MSG,3 (position and altitude), MSG,4 (velocity), and
    MSG,1 (identification) when the callsign changes. For replays and tests."""
    d = df.sort("time").select(
        (pl.col("time").dt.epoch("us") / 1e6).alias("when"), pl.col("time").dt.strftime("%Y/%m/%d").alias("d"), pl.col("time").dt.strftime("%H:%M:%S%.3f").alias("t"),
        pl.col("track_id").str.to_uppercase().alias("hex"), pl.col("callsign").fill_null(""),
        (pl.col("altitude") / 0.3048).round(0).cast(pl.Int64, strict=False).cast(pl.String).fill_null("").alias("alt"),
        (pl.col("ground_speed") / (1852 / 3600)).round(1).cast(pl.String).fill_null("").alias("gs"),
        pl.col("track").round(1).cast(pl.String).fill_null("").alias("trk"),
        pl.col("lat").round(6).cast(pl.String).alias("lat"), pl.col("lon").round(6).cast(pl.String).alias("lon"),
        (pl.col("vertical_rate") / 0.00508).round(0).cast(pl.Int64, strict=False).cast(pl.String).fill_null("")
        .alias("vr"),
    )
    out, last_callsign = [], {}
    for when, d_, t_, hx, cs, alt, gs, trk, lat, lon, vr in d.iter_rows():
        head = f"MSG,{{}},1,1,{hx},1,{d_},{t_},{d_},{t_},"
        said, at = last_callsign.get(hx, (None, None))
        if cs and (said != cs or when - at > IDENT_REPEAT):  # identification is repeated, as transponders do
            out.append(head.format(1) + f"{cs},,,,,,,,,,,0")
            last_callsign[hx] = (cs, when)
        out.append(head.format(3) + f",{alt},,,{lat},{lon},,,0,0,0,0")
        if gs or trk or vr:
            out.append(head.format(4) + f",,{gs},{trk},,,{vr},,,,,0")
    return out


def iter_lines(chunks: Iterable[bytes]) -> Iterable[str]:
    """Complete text lines from a byte stream (a trailing partial line waits for the next chunk)."""
    rest = b""
    for chunk in chunks:
        data = rest + chunk
        *lines, rest = data.split(b"\n")
        for line in lines:
            yield line.decode("utf-8", errors="replace")
