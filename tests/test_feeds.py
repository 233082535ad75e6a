"""Feed formats on real bytes: SBS, raw Mode S, Beast, readsb JSON and traces, OpenSky REST, Cursor on Target."""

import gzip
import json

import numpy as np
import polars as pl
import pytest

from skyfence.errors import InputError
from skyfence.sources import cot, opensky, readsb, sbs
from skyfence.sources.formats import detect, read_any
from skyfence.sources.modes import parse_beast, read_beast, read_frames
from skyfence.sources.tabular import from_frame
from skyfence.units import FOOT

RAW = "raw"


@pytest.fixture(scope="module")
def formation(samples) -> pl.DataFrame:
    """The real formation flight (two aircraft, 1 s reports) as canonical states."""
    df, _ = from_frame(samples.filter(pl.col("scenario") == "formation_photo_shoot"), "formation")
    return df.sort("track_id", "time")


def _same_positions(got: pl.DataFrame, want: pl.DataFrame, tolerance: float = 1e-6) -> None:
    """The same (aircraft, time) states, at positions equal to within ``tolerance`` degrees (0.1 m)."""
    key = ["track_id", "time"]
    w = want.select(*key, "lat", "lon").unique(key)
    g = got.select(*key, "lat", "lon")
    assert g.height == w.height and g.join(w, on=key, how="anti").height == 0
    j = g.join(w, on=key, suffix="_w")
    assert (j["lat"] - j["lat_w"]).abs().max() <= tolerance and (j["lon"] - j["lon_w"]).abs().max() <= tolerance


def test_sbs_replay_of_real_tracks_reproduces_them(tmp_path, formation):
    lines = sbs.to_sbs_lines(formation)
    lines[10:10] = ["MSG,3,garbage", "not a line at all", "MSG,9,1,1,ABCDEF,1,2017/12/01,12:00:00.000,,,,,,,,,,,,,,"]
    path = tmp_path / "feed.sbs"
    path.write_text("\n".join(lines) + "\n")
    assert detect(path) == "sbs"
    df, report = read_any(path)
    assert report.dropped == {"malformed SBS line": 3}
    assert report.rows_read == len(lines)
    want = formation.with_columns(pl.col("time").dt.truncate("1ms"))
    _same_positions(df, want)
    joined = df.join(want, on=["track_id", "time"], suffix="_w")
    both = joined.filter(pl.col("altitude").is_not_null() & pl.col("altitude_w").is_not_null())
    assert (both["altitude"] - both["altitude_w"]).abs().max() < 0.5 * FOOT + 1e-3
    assert joined["callsign"].drop_nulls().n_unique() == 2


def test_raw_frames_match_the_reference_decoder(shared):
    """57,793 real frames of one flight; positions must equal the reference decoder's."""
    path = shared / RAW / "mode_s_frames_393322.jsonl.gz"
    ref = [json.loads(line) for line in gzip.open(path, "rt")]
    want = pl.DataFrame([{"t": round(o["timestamp"], 6), "rlat": o["latitude"], "rlon": o["longitude"]}
                         for o in ref if "latitude" in o]).unique("t")
    assert detect(path) == "frames"
    df, report = read_frames(path, reference=(49.0, 2.55))
    assert report.rows_read == 57_793 and report.rows_dropped == 0
    got = df.select(((pl.col("time").dt.epoch("us")) / 1e6).round(6).alias("t"), "lat", "lon")
    j = want.join(got, on="t", how="inner")
    assert j.height >= 0.98 * want.height
    assert np.abs(j["lat"] - j["rlat"]).max() < 1e-9 and np.abs(j["lon"] - j["rlon"]).max() < 1e-9
    assert df["track_id"].unique().to_list() == ["393322"]
    # the flight starts on the ground at Toulouse and ends on the ground at Paris-CDG
    ground = df.filter(pl.col("on_ground"))
    assert ground["lat"].min() == pytest.approx(43.62, abs=0.02) and ground["lat"].max() == pytest.approx(49.0, abs=0.02)


def test_raw_frames_bad_lines_are_counted(tmp_path):
    path = tmp_path / "frames.txt"
    path.write_text("1720252967.49,8c39332240291667c5484dc4c9db\nnonsense\n1720252968.0,zz\n1720252969.0,"
                    "8c39332240291667c5484dc4c9db\n")
    assert detect(path) == "frames"
    _, report = read_frames(path)
    assert report.dropped["malformed frame line"] == 2 and report.rows_read == 4


def test_beast_sample_decodes(shared):
    data = (shared / RAW / "beast_sample.bin").read_bytes()
    ticks, frames, used = parse_beast(data)
    assert used == len(data) and len(frames) == len(ticks) > 200
    assert all(len(f) in (14, 28) for f in frames)
    # cut anywhere, the two halves give the same messages
    for cut in (1, 17, len(data) // 2, len(data) - 3):
        t1, f1, u1 = parse_beast(data[:cut])
        t2, f2, _ = parse_beast(data[u1:])
        assert f1 + f2 == frames and t1 + t2 == ticks
    assert detect(shared / RAW / "beast_sample.bin") == "beast"
    df, _ = read_beast(shared / RAW / "beast_sample.bin", start=0.0)
    assert set(df["track_id"]) == {"48520a"} and "TRA89M" in df["callsign"].to_list()


def test_readsb_trace(shared):
    path = shared / RAW / "readsb_trace_ac671b.json.gz"
    assert detect(path) == "readsb"
    df, report = read_any(path)
    doc = json.load(gzip.open(path, "rt"))
    stale = sum(1 for p in doc["trace"] if p[6] & 1)
    assert report.dropped == {"stale position (trace flag)": stale} and df.height == 2500 - stale
    assert df["time"][0].timestamp() == pytest.approx(doc["timestamp"])
    assert df["callsign"].drop_nulls()[0] == "DAL1812"
    # it lands at Denver: the last positions are on the ground at KDEN
    last = df.sort("time").tail(1).row(0, named=True)
    assert last["on_ground"] and abs(last["lat"] - 39.86) < 0.05 and abs(last["lon"] + 104.67) < 0.07
    assert df.filter(pl.col("on_ground"))["altitude"].max() == 0.0


@pytest.mark.parametrize("api", [False, True])
def test_readsb_snapshots_round_trip(tmp_path, formation, api):
    snaps = readsb.to_snapshots(formation, period=1.0, api=api)
    snaps[3]["aircraft" if not api else "ac"].append({"hex": "~2f0001", "lat": 44.0, "lon": 3.0, "seen_pos": 0.4,
                                                      "alt_baro": "ground"})
    snaps[4]["aircraft" if not api else "ac"].append({"hex": "abcdef", "alt_baro": 1000})  # no position
    path = tmp_path / "aircraft.jsonl"
    path.write_text("\n".join(json.dumps(s) for s in snaps) + "\n")
    assert detect(path) == "readsb"
    df, report = read_any(path)
    assert report.dropped == {"aircraft without position": 1}
    anon = df.filter(pl.col("track_id") == "~2f0001")
    assert anon.height == 1 and anon["on_ground"][0] and anon["altitude"][0] == 0.0
    # one state per report (snapshots every second hold the latest report of each aircraft)
    got = df.filter(pl.col("track_id") != "~2f0001")
    want = formation.with_columns(pl.col("time").dt.round("1ms"))
    latest = want.with_columns((pl.col("time").dt.epoch("us") // 1_000_000).alias("_s")).group_by(
        "track_id", "_s").agg(pl.all().sort_by("time").last()).drop("_s")
    _same_positions(got.with_columns(pl.col("time").dt.round("1ms")), latest)


def test_opensky_rest_answers_round_trip(tmp_path, formation):
    answers = [opensky.to_states_answer(g, at=g["time"].max().timestamp())
               for _, g in formation.head(400).group_by((pl.col("time").dt.epoch("s") // 10), maintain_order=True)]
    answers[0]["states"].append(["abcdef", "X", "Syria", None, 1, None, None, None, False, None, None, None, None,
                                 None, None, False, 0])
    path = tmp_path / "states.jsonl"
    path.write_text("\n".join(json.dumps(a) for a in answers))
    assert detect(path) == "opensky"
    df, report = read_any(path)
    assert report.dropped == {"state without position": 1}
    _same_positions(df, formation.head(400))


def test_cot_round_trip_and_non_air_events(tmp_path, formation):
    events = cot.to_events(formation.head(300), affiliation="h")
    ground_unit = (b'<event version="2.0" uid="tank-1" type="a-h-G-U-C" time="2017-12-01T12:00:00Z" '
                   b'start="2017-12-01T12:00:00Z" stale="2017-12-01T12:01:00Z" how="m-g">'
                   b'<point lat="44" lon="3" hae="0" ce="1" le="1"/></event>')
    path = tmp_path / "tracks.cot"
    path.write_bytes(b"".join(events[:5]) + ground_unit + b"".join(events[5:]))
    assert detect(path) == "cot"
    df, report = read_any(path)
    assert report.dropped == {"not an air track (CoT type)": 1}
    want = formation.head(300).with_columns(pl.col("time").dt.truncate("1ms"))
    _same_positions(df, want)
    joined = df.join(want, on=["track_id", "time"], suffix="_w").filter(pl.col("altitude_w").is_not_null())
    assert (joined["altitude"] - joined["altitude_w"]).abs().max() < 0.01


def test_cot_parsing_is_safe_against_entity_attacks(tmp_path):
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
              b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>')
    bomb = laughs + (b'<event version="2.0" uid="&lol3;" type="a-h-A" time="2017-12-01T12:00:00Z">'
                     b'<point lat="44" lon="3" hae="0"/></event>')
    external = (b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><event version="2.0" uid="&xxe;" '
                b'type="a-h-A" time="2017-12-01T12:00:00Z"><point lat="44" lon="3" hae="0"/></event>')
    from collections import Counter
    bad = Counter()
    cols = cot.parse_events([bomb, external], bad)
    assert cols["track_id"] == [] and bad["malformed CoT event"] == 2


def test_unknown_formats_get_one_clear_error(tmp_path):
    xml = tmp_path / "x.xml"
    xml.write_text("<gpx></gpx>")
    avr = tmp_path / "frames.avr"
    avr.write_text("*8d4840d6202cc371c32ce0576098;\n")
    js = tmp_path / "x.json"
    js.write_text('{"hello": 1}')
    empty = tmp_path / "empty.sbs"
    empty.write_text("")
    for path, words in [(xml, "not Cursor on Target"), (avr, "without times"), (js, "unknown kind"),
                        (empty, "empty")]:
        with pytest.raises(InputError, match=words):
            read_any(path)


def test_older_dump1090_aircraft_json(tmp_path):
    """dump1090 before readsb: ``altitude``, ``speed``, ``vert_rate``; entries without a position skipped."""
    doc = {"now": 1509530400.0, "aircraft": [
        {"hex": "778001", "flight": "SYR501  ", "lat": 35.3, "lon": 40.1, "altitude": 20000, "speed": 420,
         "track": 95, "vert_rate": -640, "seen_pos": 0.5},
        {"hex": "ae0455", "altitude": 25000}]}
    path = tmp_path / "aircraft.json"
    path.write_text(json.dumps(doc))
    df, report = read_any(path)
    row = df.row(0, named=True)
    assert df.height == 1 and report.dropped == {"aircraft without position": 1}
    assert row["callsign"] == "SYR501" and row["time"].timestamp() == pytest.approx(1509530399.5)
    assert row["altitude"] == pytest.approx(20000 * FOOT) and row["ground_speed"] == pytest.approx(420 * 1852 / 3600)
    assert row["vertical_rate"] == pytest.approx(-640 * FOOT / 60)


def test_analyze_reads_raw_frames_with_a_receiver_position(shared, tmp_path):
    """With --reference, the surface positions at both airports decode too."""
    import subprocess
    import sys

    path = shared / RAW / "mode_s_frames_393322.jsonl.gz"
    runs = {}
    for name, extra in (("plain", []), ("ref", ["--reference", "49.0,2.55"])):
        proc = subprocess.run([sys.executable, "-m", "skyfence", "analyze", str(path), "--out", str(tmp_path / name),
                               "-q", *extra], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        runs[name] = json.loads((tmp_path / name / "summary.json").read_text())["tracks"]["states"]
    assert runs["ref"] > runs["plain"] + 1000


def test_a_beast_capture_says_where_its_times_come_from_and_takes_its_start(shared, tmp_path):
    """A Beast clock counts from the receiver's start: a capture was dated by the file's modification time without
    a word, and no option set it (user trial). The file's time is said, and --beast-start sets the first message's."""
    import shutil
    from datetime import datetime, timezone

    from typer.testing import CliRunner

    from skyfence.cli import app

    path = tmp_path / "capture.bin"
    shutil.copy(shared / RAW / "beast_sample.bin", path)
    _, report = read_beast(path)
    assert any("file's modification time" in note for note in report.corrected)
    start = datetime(2020, 1, 1, 10, tzinfo=timezone.utc)
    df, report = read_beast(path, start=start.timestamp())
    assert not report.corrected and df["time"].min() >= start and df["time"].max() < datetime(2020, 1, 1, 11,
                                                                                             tzinfo=timezone.utc)
    r = CliRunner().invoke(app, ["ingest", "--source", str(path), "--out", str(tmp_path / "out" / "x.parquet"),
                                 "--beast-start", "2020-01-01T10:00:00Z", "-q"])
    assert r.exit_code == 0, r.output
    assert [p.name for p in (tmp_path / "out").glob("*.parquet")] == ["x-20200101T10.parquet"]
