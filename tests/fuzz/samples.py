"""Clean samples of every format skyfence reads, made of real records from ../shared/data.

A sample is a file cut into records: ``prefix + sep.join(records) + suffix``.
The fuzzer mutates records or bytes and knows, for every byte, which record it
belongs to, so it can say which records a mutation left untouched. Each
sample also knows how to write a record with an impossible time and with a
value of the wrong type (``edits``), which are bad records to be counted.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import polars as pl

from skyfence.live.replay import beast_message
from skyfence.sources import cot, opensky, readsb, sbs
from skyfence.sources.tabular import from_frame

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FRAMES_WINDOW = (20_000, 21_500)  # airborne part of the real flight: positions decode without a receiver position
BEAST_START = 1_720_248_189.0  # Unix time of the first Beast message (a Beast file has no absolute time)

# Values no receiver produces, written in place of a record's time (the record must be counted as bad).
IMPOSSIBLE_SECONDS = ["1e15", "1e308", "-1", "99999999999999999999", "0", "5e9"]


@dataclass
class Sample:
    """A file of one format as records, and what a reader must give back for it."""

    name: str
    filename: str
    kind: str  # the format detect() must find
    records: list[bytes]
    prefix: bytes = b""
    suffix: bytes = b""
    sep: bytes = b""
    compare: tuple[str, ...] = ("track_id", "time", "lon", "lat", "altitude", "ground_speed", "track",
                                "vertical_rate", "callsign", "on_ground")
    bad_time: Callable[[bytes, str], bytes] | None = None  # record with its time replaced by a text
    bad_type: Callable[[bytes, int], bytes] | None = None  # record with a field of the wrong type (variant k)
    units: Callable[[bytes], int] = lambda record: 1  # bad records an edit of this record makes (states in it)
    garbage: Callable[[int], bytes] | None = None  # a garbage record that cannot be read as one (variant k)
    binary: bool = False
    shift_times: bool = False  # times have no absolute origin (Beast): compare them up to one shift
    builder: Callable[[list[bytes]], bytes] | None = None  # a file that is not records joined (Parquet)
    meta: dict = field(default_factory=dict)

    def build(self, records: list[bytes] | None = None) -> bytes:
        records = self.records if records is None else records
        if self.builder is not None:
            return self.builder(records)
        return self.prefix + self.sep.join(records) + self.suffix


@lru_cache(maxsize=1)
def states() -> pl.DataFrame:
    """About 160 real states of eleven aircraft in the Paris TMA plus the formation pair, canonical."""
    raw = pl.read_parquet(SHARED / "adsb_samples.parquet")
    tma = raw.filter(pl.col("scenario") == "dense_tma_traffic").sort("timestamp")
    ids = tma["icao24"].unique(maintain_order=True).head(10).to_list()
    tma = tma.filter(pl.col("icao24").is_in(ids)).group_by("icao24", maintain_order=True).head(12).select(raw.columns)
    form = raw.filter(pl.col("scenario") == "formation_photo_shoot").sort("timestamp").head(40)
    df, _ = from_frame(pl.concat([tma, form]), "sample")
    return df.with_columns(pl.col("time").dt.truncate("1ms")).sort("time", "track_id")


@lru_cache(maxsize=1)
def frame_lines() -> list[dict]:
    lines = gzip.open(SHARED / "raw" / "mode_s_frames_393322.jsonl.gz", "rt").read().splitlines()
    return [json.loads(line) for line in lines[FRAMES_WINDOW[0]:FRAMES_WINDOW[1]]]


def _csv(df: pl.DataFrame, name: str, kind_cols: dict[str, str], time_col: str) -> Sample:
    buf = io.StringIO()
    df.write_csv(buf)
    header, *rows = buf.getvalue().splitlines(keepends=True)
    cols = header.strip().split(",")
    ti = cols.index(time_col)
    li = cols.index(kind_cols["lat"])

    def replace(record: bytes, index: int, value: str) -> bytes:
        parts = record.decode().rstrip("\n").split(",")
        parts[index] = value
        return (",".join(parts) + "\n").encode()

    wrong = ["abc", "1e400", "NaN-ish", "--"]
    return Sample(name, f"{name}.csv", "csv", [r.encode() for r in rows], prefix=header.encode(),
                  bad_time=lambda r, v: replace(r, ti, v),
                  bad_type=lambda r, k: replace(r, li, wrong[k % len(wrong)]),
                  garbage=lambda k: f"garbage line {k} without the separators\n".encode())


def csv_sample() -> Sample:
    """The traffic convention: ISO times, feet, knots, ft/min."""
    s = states()
    df = s.select(pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").alias("timestamp"),
                  pl.col("track_id").alias("icao24"), "callsign", pl.col("lat").alias("latitude"),
                  pl.col("lon").alias("longitude"), (pl.col("altitude") / 0.3048).round(0).alias("altitude"),
                  (pl.col("ground_speed") * 3600 / 1852).round(1).alias("groundspeed"), pl.col("track").round(1),
                  (pl.col("vertical_rate") / 0.00508).round(0).alias("vertical_rate"))
    sample = _csv(df, "csv", {"lat": "latitude"}, "timestamp")
    return sample


def csv_epoch_sample() -> Sample:
    """OpenSky state vectors: Unix seconds, metres, m/s."""
    s = states()
    df = s.select((pl.col("time").dt.epoch("ms") / 1000).alias("time"), pl.col("track_id").alias("icao24"),
                  "lat", "lon", pl.col("ground_speed").round(3).alias("velocity"), pl.col("track").round(2).alias("heading"),
                  pl.col("vertical_rate").round(3).alias("vertrate"), "callsign",
                  pl.col("on_ground").alias("onground"), pl.col("altitude").round(2).alias("baroaltitude"))
    return _csv(df, "csv_epoch", {"lat": "lat"}, "time")


def parquet_rows() -> pl.DataFrame:
    """The Parquet sample's rows (Unix seconds as numbers, so that impossible times can be written)."""
    s = states()
    return s.select((pl.col("time").dt.epoch("ms") / 1000).alias("time"), pl.col("track_id").alias("icao24"),
                    "callsign", "lat", "lon", (pl.col("altitude") / 0.3048).alias("altitude"))


def sbs_sample() -> Sample:
    lines = [(line + "\n").encode() for line in sbs.to_sbs_lines(states())]

    def field(record: bytes, index: int, value: str) -> bytes:
        parts = record.decode().rstrip("\n").split(",")
        parts[index] = value
        return (",".join(parts) + "\n").encode()

    def bad_time(record: bytes, value: str) -> bytes:
        return field(record, 6, {"0": "1970/01/01", "-1": "1960/13/01"}.get(value, "2150/01/01"))

    wrong = [(14, "abc"), (15, "nan"), (11, "inf"), (14, "")]

    def bad_type(record: bytes, k: int) -> bytes:
        index, value = wrong[k % len(wrong)]
        if not record.startswith(b"MSG,3"):  # only position lines have these fields
            index, value = 7, "25:99:99.000"
        if index == 14 and value == "":  # a latitude without its longitude
            return field(record, 14, "")
        return field(record, index, value)

    return Sample("sbs", "feed.sbs", "sbs", lines, compare=("track_id", "time", "lon", "lat"),
                  bad_time=bad_time, bad_type=bad_type,
                  garbage=lambda k: [b"MSG,3,garbage\n", b"STA,not a message line\n", b"MSG,9,1,1,ABCDEF\n",
                                     b"\x00\x01 binary noise\n"][k % 4])


def frames_json_sample() -> Sample:
    objs = frame_lines()
    records = [(json.dumps({"timestamp": o["timestamp"], "frame": o["frame"], "df": o["df"]}) + "\n").encode()
               for o in objs]

    def edit(record: bytes, key: str, value) -> bytes:
        o = json.loads(record)
        o[key] = value
        return (json.dumps(o) + "\n").encode()

    def bad_time(record: bytes, value: str) -> bytes:
        return record.replace(b'"timestamp": ', b'"timestamp": ' + value.encode() + b", \"was\": ", 1)

    wrong = [("frame", 123), ("frame", None), ("timestamp", "abc"), ("timestamp", True), ("frame", ["8d"]),
             ("timestamp", None), ("frame", "zz" * 7)]
    return Sample("frames_json", "frames.jsonl", "frames", records, compare=("track_id", "time", "lon", "lat"),
                  bad_time=bad_time, bad_type=lambda r, k: edit(r, *wrong[k % len(wrong)]),
                  garbage=lambda k: [b'{"timestamp": 1.5e9, "frame"\n', b"not json at all\n",
                                     b'{"hello": "world"}\n', b"[1, 2, 3]\n"][k % 4])


def frames_text_sample() -> Sample:
    records = [f"{o['timestamp']:.6f},{o['frame']}\n".encode() for o in frame_lines()]

    def bad_time(record: bytes, value: str) -> bytes:
        return value.encode() + record[record.index(b","):]

    wrong = ["abc", "nan", "inf", ""]
    return Sample("frames_text", "frames.txt", "frames", records, compare=("track_id", "time", "lon", "lat"),
                  bad_time=bad_time, bad_type=lambda r, k: bad_time(r, wrong[k % len(wrong)]),
                  garbage=lambda k: [b"1720252969.0,zzzz\n", b"nonsense\n", b"12345\n", b",\n"][k % 4])


def beast_sample() -> Sample:
    objs = frame_lines()
    t0 = objs[0]["timestamp"]
    ticks = [int(round((o["timestamp"] - t0) * 12e6)) + 12_000 for o in objs]
    records = [beast_message(t, o["frame"]) for t, o in zip(ticks, objs)]

    def bad_time(record: bytes, value: str) -> bytes:  # a damaged clock: far from its neighbours'
        i = records.index(record) if record in records else 0
        return beast_message((ticks[i] + (1 << 40)) % (1 << 48), objs[i]["frame"])

    return Sample("beast", "capture.bin", "beast", records, compare=("track_id", "time", "lon", "lat"),
                  bad_time=bad_time, binary=True, shift_times=True,
                  garbage=lambda k: bytes([0x20 + (k * 7 + j) % 90 for j in range(5 + k % 11)]),
                  meta={"start": BEAST_START})


def _json_lines(name: str, kind: str, docs: list[dict], time_key: str, array: str) -> Sample:
    records = [(json.dumps(d) + "\n").encode() for d in docs]

    def bad_time(record: bytes, value: str) -> bytes:
        d = json.loads(record)
        d[time_key] = json.loads(value) if value[0] in "-0123456789" else value
        return (json.dumps(d) + "\n").encode()

    sample = Sample(name, f"{name}.jsonl", kind, records, bad_time=bad_time,
                    garbage=lambda k: [b"{broken json\n", b"plain text\n", b'{"a": [1, 2\n', b"]\n"][k % 4])
    sample.meta["array"] = array
    return sample


def readsb_sample(api: bool = False) -> Sample:
    snaps = readsb.to_snapshots(states(), period=5.0, api=api)
    name, array = ("adsbx", "ac") if api else ("readsb", "aircraft")
    sample = _json_lines(name, "readsb", snaps, "now", array)
    if api:  # milliseconds
        base = sample.bad_time
        sample.bad_time = lambda r, v: base(r, repr(float(v) * 1000))
    wrong = [("hex", 5), ("lat", "abc"), ("seen_pos", "x"), ("lon", False)]

    def bad_type(record: bytes, k: int) -> bytes:  # one aircraft entry spoiled
        d = json.loads(record)
        key, value = wrong[k % len(wrong)]
        d[array][0][key] = value
        return (json.dumps(d) + "\n").encode()

    sample.bad_type = bad_type
    sample.units = lambda record: len(json.loads(record)[array])
    return sample


def opensky_sample() -> Sample:
    s = states()
    groups = s.with_columns((pl.col("time").dt.epoch("s") // 10).alias("_g")).partition_by("_g", maintain_order=True)
    answers = [opensky.to_states_answer(g.drop("_g"), at=g["time"].max().timestamp() + 1) for g in groups]
    records = [(json.dumps(a) + "\n").encode() for a in answers]

    def bad_time(record: bytes, value: str) -> bytes:
        d = json.loads(record)
        for st in d["states"]:
            st[3] = json.loads(value)
        return (json.dumps(d) + "\n").encode()

    wrong = [(0, None), (3, "abc"), (6, "north"), (0, 5), (5, True)]

    def bad_type(record: bytes, k: int) -> bytes:
        d = json.loads(record)
        index, value = wrong[k % len(wrong)]
        for st in d["states"]:
            st[index] = value
        return (json.dumps(d) + "\n").encode()

    return Sample("opensky", "states.jsonl", "opensky", records, bad_time=bad_time, bad_type=bad_type,
                  units=lambda record: len(json.loads(record)["states"]),
                  garbage=lambda k: [b"{broken json\n", b"plain text\n", b'{"a": [1, 2\n', b"]\n"][k % 4])


def readsb_doc_sample() -> Sample:
    """One aircraft.json snapshot, an aircraft a line (as readsb writes it), many aircraft."""
    s = states().filter(pl.col("time").dt.year() == 2021).group_by("track_id", maintain_order=True).last()
    doc = readsb.to_snapshots(s, period=1e6)[0]
    entries = [json.dumps(e).encode() for e in doc["aircraft"]]

    def edit(record: bytes, key: str, value) -> bytes:
        e = json.loads(record)
        e[key] = value
        return json.dumps(e).encode()

    wrong = [("hex", 5), ("lat", "abc"), ("seen_pos", "x"), ("lon", None), ("hex", "")]
    return Sample("readsb_doc", "aircraft.json", "readsb", entries,
                  prefix=b'{"now": %s, "messages": 9, "aircraft": [\n' % json.dumps(doc["now"]).encode(),
                  suffix=b"\n]}\n", sep=b",\n",
                  bad_time=lambda r, v: edit(r, "seen_pos", doc["now"] - float(v)),
                  bad_type=lambda r, k: edit(r, *wrong[k % len(wrong)]),
                  garbage=lambda k: [b"garbage", b'{"hex": "abc"', b"{{{", b"]]"][k % 4])


def trace_sample() -> Sample:
    doc = json.load(gzip.open(SHARED / "raw" / "readsb_trace_ac671b.json.gz", "rt"))
    points = doc.pop("trace")[:400]
    head = json.dumps(doc)[:-1].encode() + b',\n"trace":[\n'
    records = [json.dumps(p).encode() for p in points]

    def edit(record: bytes, index: int, value) -> bytes:
        p = json.loads(record)
        p[index] = value
        return json.dumps(p).encode()

    wrong = [(1, "abc"), (2, None), (0, "x"), (1, True)]
    # the callsign comes from the last point that carried one: compare what each point holds itself
    return Sample("trace", "trace_full_ac671b.json", "readsb", records, prefix=head, suffix=b"\n]}\n", sep=b",\n",
                  compare=("track_id", "time", "lon", "lat", "altitude", "ground_speed", "track", "vertical_rate",
                           "on_ground"),
                  bad_time=lambda r, v: edit(r, 0, float(v) - doc["timestamp"]),
                  bad_type=lambda r, k: edit(r, *wrong[k % len(wrong)]),
                  garbage=lambda k: [b"garbage", b'{"not": "a point"', b"[1, 2", b"]]]"][k % 4])


def cot_sample() -> Sample:
    events = cot.to_events(states(), affiliation="h")

    def bad_time(record: bytes, value: str) -> bytes:
        text = record.decode()
        year = {"0": "1970", "-1": "1969"}.get(value, "2150")
        start = text.index('time="') + 6
        return (text[:start] + year + text[start + 4:]).replace(' start="', ' was="').encode()

    wrong = [(' lat="', ' lat="abc'), (' lon="', ' lon="nan'), (' time="', ' time="not a time'), (' uid="', ' uid="  ')]

    def bad_type(record: bytes, k: int) -> bytes:
        a, b = wrong[k % len(wrong)]
        text = record.decode()
        i = text.index(a) + len(a)
        j = text.index('"', i)
        text = (text[:i - len(a)] + b + text[j:]).replace(' start="', ' was="')
        return text.encode()

    return Sample("cot", "tracks.cot", "cot", events, bad_time=bad_time, bad_type=bad_type,
                  garbage=lambda k: [b"garbage between events\n", b"<gpx>not an event</gpx>\n",
                                     b"plain words", b"}{][\n"][k % 4])


@lru_cache(maxsize=1)
def all_samples() -> dict[str, Sample]:
    """Every sample by name."""
    from tests.fuzz.parquet import parquet_sample

    samples = [parquet_sample(), csv_sample(), csv_epoch_sample(), sbs_sample(), frames_json_sample(), frames_text_sample(),
               beast_sample(), readsb_sample(), readsb_sample(api=True), opensky_sample(), readsb_doc_sample(),
               trace_sample(), cot_sample()]
    return {s.name: s for s in samples}
