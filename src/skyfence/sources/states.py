"""From partial messages to state vectors: what SBS-1 and Mode S feeds need.

A feed tells about an aircraft piece by piece: a position here, a velocity
there, the callsign now and then. The builder keeps, per aircraft, the latest
value of each field and when it came, and emits one state at every position,
with the other fields if they are fresh enough (velocity and altitude 10 s,
callsign an hour); messages stamped with the same time count as one, in any
order. Messages arrive as a table (``MESSAGE_SCHEMA``, aviation
units as the feeds give them) in chunks; what each aircraft last said is
carried from one chunk to the next, so a live feed is treated exactly like a
recording.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from skyfence.tracks.schema import conform, empty_tracks, time_from_seconds
from skyfence.units import FEET_PER_MINUTE, FOOT, KNOT

MESSAGE_SCHEMA = {
    "time": pl.Float64,  # Unix seconds
    "icao24": pl.String,
    "callsign": pl.String,
    "lat": pl.Float64,
    "lon": pl.Float64,
    "altitude": pl.Float64,  # ft
    "groundspeed": pl.Float64,  # kt
    "track": pl.Float64,  # deg
    "vertical_rate": pl.Float64,  # ft/min
    "on_ground": pl.Boolean,
}
MOMENT_SPAN = 1.0  # s: the lines of one moment come within this much of the stream's latest message
FRESH = {"altitude": 10.0, "groundspeed": 10.0, "track": 10.0, "vertical_rate": 10.0, "callsign": 3600.0,
         "on_ground": 30.0}


def empty_messages() -> pl.DataFrame:
    return pl.DataFrame(schema=MESSAGE_SCHEMA)


@dataclass
class StateBuilder:
    """Turns message chunks into canonical states, remembering each aircraft's latest fields."""

    source: str
    carry: pl.DataFrame | None = None  # per aircraft: the latest value of each field and its time
    hold_last_moment: bool = False
    """Keep each aircraft's latest moment back while the stream is within ``MOMENT_SPAN`` of it (or until
    :meth:`flush`): the rest of that moment may come in the next chunk (SBS sends position and velocity as
    separate lines of one moment)."""
    pending: pl.DataFrame | None = None
    latest: float = float("-inf")  # where the stream is, as the last chunk tells it (Unix s)

    def feed(self, messages: pl.DataFrame) -> pl.DataFrame:
        """The states (one per position message) of this chunk, in the canonical schema."""
        msgs = messages.select([pl.col(c).cast(t) for c, t in MESSAGE_SCHEMA.items()])
        if self.hold_last_moment:
            if self.pending is not None:
                msgs = pl.concat([self.pending, msgs])
            if messages.height:
                self.latest = _stream_time(messages)
            newest = msgs.select(pl.col("time").max().over("icao24")).to_series()
            # held until the stream has moved on, not until the aircraft speaks again: the moment before a gap in
            # its reports came out after the gap, over 30 s behind the feed, and the monitor counted it as late
            last = (msgs["time"] == newest) & (msgs["time"] >= self.latest - MOMENT_SPAN)
            self.pending, msgs = msgs.filter(last), msgs.filter(~last)
        return self._states(msgs)

    def flush(self) -> pl.DataFrame:
        """The states of the moments held back (at the end of a file or stream)."""
        msgs, self.pending = self.pending, None
        return self._states(msgs) if msgs is not None else empty_tracks()

    def _states(self, msgs: pl.DataFrame) -> pl.DataFrame:
        if msgs.height == 0:
            return empty_tracks()
        msgs = msgs.with_columns(pl.lit(False).alias("_carried"))
        stamp = [pl.when(pl.col(c).is_not_null()).then(pl.col("time")).otherwise(None).alias(f"_t_{c}")
                 for c in FRESH]
        msgs = msgs.with_columns(stamp)
        if self.carry is not None and self.carry.height:
            msgs = pl.concat([self.carry.with_columns(pl.lit(True).alias("_carried")), msgs], how="diagonal_relaxed")
        msgs = msgs.sort(["icao24", "time"], maintain_order=True)
        # messages with the same time are one moment, whatever their order in the stream: a position takes
        # the velocity sent with it, even when the velocity line comes after it (an aircraft's first state
        # would otherwise have no speed, and every later one the previous report's)
        same_moment = [pl.col(c, f"_t_{c}").fill_null(strategy="backward").over(["icao24", "time"]) for c in FRESH]
        filled = msgs.with_columns(same_moment).with_columns(
            [pl.col(c, f"_t_{c}").forward_fill().over("icao24") for c in FRESH])
        self.carry = (filled.group_by("icao24", maintain_order=True).last()
                      .select(["icao24", "time", *FRESH, *(f"_t_{c}" for c in FRESH)])
                      .with_columns(pl.lit(None, dtype=pl.Float64).alias("lat"),
                                    pl.lit(None, dtype=pl.Float64).alias("lon")))
        fresh = [pl.when(pl.col("time") - pl.col(f"_t_{c}") <= age).then(pl.col(c)).otherwise(None).alias(c)
                 for c, age in FRESH.items()]
        states = (filled.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null() & ~pl.col("_carried"))
                  .with_columns(fresh))
        return to_canonical(states, self.source)


def _stream_time(messages: pl.DataFrame) -> float:
    """Where a chunk of the stream is: the latest time of the aircraft second to report latest in it (one record
    dated years ahead does not vouch for itself, and must not let every moment go before its other lines come),
    or of the one aircraft in it. A chunk's alone, so a misdated record, or a receiver's clock set back, tells
    nothing past its chunk."""
    latest = messages.group_by("icao24").agg(pl.col("time").max())["time"].top_k(2).sort(descending=True)
    return float(latest[1] if len(latest) > 1 else latest[0])


def to_canonical(states: pl.DataFrame, source: str) -> pl.DataFrame:
    """Message-table columns (aviation units) to the canonical track schema."""
    out = states.select(
        time_from_seconds(pl.col("time")).alias("time"),
        pl.col("icao24").str.to_lowercase().alias("track_id"),
        pl.col("callsign").str.strip_chars().alias("callsign"),
        "lon", "lat",
        (pl.col("altitude") * FOOT).alias("altitude"),
        (pl.col("groundspeed") * KNOT).alias("ground_speed"),
        pl.col("track"),
        (pl.col("vertical_rate") * FEET_PER_MINUTE).alias("vertical_rate"),
        pl.col("on_ground"),
        pl.lit(source).alias("source"),
    )
    return conform(out)
