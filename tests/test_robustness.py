"""Each class of failure a fuzzer found, held by a test on real records: bad input is one line and exit 2,
a bad record is counted and never loses its neighbours, nothing good is lost."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from skyfence.agreement import load_agreement
from skyfence.agreement.identify import address_country
from skyfence.errors import AgreementError
from skyfence.live.decoders import MAX_LINE, BeastDecoder, CotDecoder, SbsDecoder
from skyfence.live.replay import beast_message
from skyfence.sources import cot, sbs
from skyfence.sources.formats import detect, read_any
from skyfence.sources.textio import GZIP_DAMAGED
from skyfence.units import UnitError, parse_duration
from tests.fuzz.samples import all_samples, frame_lines

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skyfence", *args], capture_output=True, text=True, **kw)


# --- times no receiver can produce -------------------------------------------------------------------

@pytest.mark.parametrize("value", ["1e12", "1e15", "1e308", "inf", "nan", "-inf", ""])
def test_extreme_times_are_bad_records_in_every_reader(tmp_path, value):
    frames = all_samples()["frames_text"].records[:200]
    text = _write(tmp_path, "f.txt", b"".join(frames[:100]) + f"{value},{frame_lines()[0]['frame']}\n".encode()
                  + b"".join(frames[100:]))
    df, rep = read_any(text)
    assert rep.rows_dropped == 1 and df.height == read_any(_write(tmp_path, "c.txt", b"".join(frames)))[0].height
    if value == "1e12":
        return  # in a table of Unix times, 1e12 is read as milliseconds (2001-09-09): a real time
    epoch = _write(tmp_path, "e.csv", f"time,icao24,lat,lon\n1509530400,778001,35,40\n{value},778001,35.1,40\n"
                   "1509530410,778001,35.2,40\n".encode())
    df, rep = read_any(epoch)
    assert df.height == 2 and rep.rows_dropped == 1
    number = float(value) if value else None
    pq = tmp_path / "t.parquet"
    pl.DataFrame({"time": [1.5e9, number, 1.5e9 + 5], "icao24": ["778001"] * 3, "lat": [35.0, 35.1, 35.2],
                  "lon": [40.0] * 3}, schema_overrides={"time": pl.Float64}).write_parquet(pq)
    df, rep = read_any(pq)
    assert df.height == 2 and rep.rows_dropped == 1
    doc = {"time": 1.5e9, "states": [["778001", "S1", "", number, 1.5e9, 40.0, 35.0, 1000.0, False, 200.0, 90.0,
                                      0.0, None, None, None, False, 0]]}
    df, rep = read_any(_write(tmp_path, "s.json", json.dumps(doc).encode()))
    assert df.height == 0 and rep.rows_dropped == 1


def test_ingest_of_impossible_times_writes_only_real_hours(tmp_path):
    lines = [line for line in all_samples()["sbs"].records]
    lines.insert(5, lines[5].replace(b"2021/10/07", b"9999/12/31").replace(b"2017/12/01", b"9999/12/31"))
    path = _write(tmp_path, "feed.sbs", b"".join(lines))
    proc = _cli("ingest", "--source", str(path), "--out", str(tmp_path / "out"), "--summary", str(tmp_path / "s.json"))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["bad_by_reason"] == {"impossible time": 1}
    assert all("9999" not in f for f in doc["files"])


# --- damage: gzip, lines, rows ------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["cut", "corrupt"])
def test_damaged_gzip_keeps_what_came_before(tmp_path, how):
    clean = b"".join(all_samples()["sbs"].records)
    packed = gzip.compress(clean, mtime=0)
    if how == "cut":
        data = packed[: len(packed) * 2 // 3]
    else:
        data = packed[: len(packed) // 2] + bytes(b ^ 0xFF for b in packed[len(packed) // 2: len(packed) // 2 + 40]) \
            + packed[len(packed) // 2 + 40:]
    df, rep = read_any(_write(tmp_path, "feed.sbs.gz", data))
    records = all_samples()["sbs"].records
    before, _ = read_any(_write(tmp_path, "before.sbs", b"".join(records[: len(records) * 2 // 5])))
    assert rep.dropped[GZIP_DAMAGED] == 1
    assert before.join(df, on=["track_id", "time", "lat", "lon"], how="anti").height == 0


def test_one_bad_row_never_loses_a_csv(tmp_path):
    good = "timestamp,icao24,latitude,longitude\n" + "".join(
        f"2017-11-01T10:00:{s:02d}Z,778001,35.{s:02d},40\n" for s in range(20))
    lines = good.encode().splitlines(keepends=True)
    ragged = lines[:5] + [b"2017-11-01T10:01:00Z,778001,35,40,extra\n"] + lines[5:]
    utf8 = lines[:5] + [b"2017-11-01T10:01:00Z,77\xff\xfe01,35,40\n"] + lines[5:]
    epoch = lines[:5] + [b"not-a-time,778001,35,40\n"] + lines[5:]
    for name, data, reason in (("ragged", ragged, "malformed CSV row"), ("utf8", utf8, None),
                               ("epoch", epoch, "malformed time")):
        df, rep = read_any(_write(tmp_path, f"{name}.csv", b"".join(data)))
        assert df.filter(pl.col("track_id") == "778001").height == 20, name
        if reason:
            assert rep.dropped == {reason: 1}, name
    # a column of Unix seconds with one bad cell stays a column of times
    cells = b"time,icao24,lat,lon\n" + b"".join(f"{1509530400 + s},778001,35,40\n".encode() for s in range(20))
    df, rep = read_any(_write(tmp_path, "sec.csv", cells.replace(b"1509530405", b"abc")))
    assert df.height == 19 and rep.dropped == {"malformed time": 1}


def test_a_json_line_with_a_line_separator_is_one_good_line(tmp_path):
    sample = all_samples()["readsb"]
    first = json.loads(sample.records[0])
    first["aircraft"][0]["flight"] = "AB\u2028C"
    data = (json.dumps(first, ensure_ascii=False) + "\n").encode() + b"".join(sample.records[1:])
    df, rep = read_any(_write(tmp_path, "a.jsonl", data))
    assert rep.rows_dropped == 0 and "AB\u2028C" in df["callsign"].to_list()


def test_sbs_counts_every_line_it_cannot_use(tmp_path):
    lines = list(all_samples()["sbs"].records)
    pos = next(i for i, line in enumerate(lines) if line.startswith(b"MSG,3"))
    parts = lines[pos].split(b",")
    bad_lat = b",".join(parts[:14] + [b"abc"] + parts[15:])
    cut = b",".join(parts[:15]) + b"," + parts[15][:3]  # a last line cut inside its longitude
    df, rep = read_any(_write(tmp_path, "f.sbs", b"".join(lines[:pos] + [bad_lat] + lines[pos + 1:]) + cut))
    assert rep.dropped == {"malformed SBS line": 2}
    whole, _ = read_any(_write(tmp_path, "w.sbs", b"".join(lines)))
    assert df.height == whole.height - 1


def test_frames_of_the_wrong_type_and_times_that_are_not_numbers(tmp_path):
    records = list(all_samples()["frames_json"].records[:300])
    records[10] = b'{"timestamp": 1720248189.5, "frame": 8}\n'
    records[20] = b'{"timestamp": NaN, "frame": "8d39332258c382d690c8ac2863a7"}\n'
    records[30] = b'{"timestamp": Infinity, "frame": "8d39332258c382d690c8ac2863a7"}\n'
    df, rep = read_any(_write(tmp_path, "f.jsonl", b"".join(records)))
    assert rep.dropped == {"malformed frame line": 1, "impossible time": 2}


def test_opensky_state_without_an_address_is_counted_not_named_none(tmp_path):
    doc = {"time": 1.5e9, "states": [[None, "S1", "", 1.5e9, 1.5e9, 40.0, 35.0, 1000.0, False, 200.0, 90.0, 0.0,
                                      None, None, None, False, 0]]}
    df, rep = read_any(_write(tmp_path, "s.json", json.dumps(doc).encode()))
    assert df.height == 0 and rep.dropped == {"malformed state": 1}


def test_short_opensky_states_and_unbalanced_quotes_are_bad_records(tmp_path):
    state = ["778001", "S1", "", 1.5e9, 1.5e9, 40.0, 35.0, None, False, 200.0, 90.0, 0.0, None]  # 13 fields
    df, rep = read_any(_write(tmp_path, "s.json", json.dumps({"time": 1.5e9, "states": [state]}).encode()))
    assert df.height == 1 and df["altitude"][0] is None and rep.rows_dropped == 0
    rows = "".join(f"{1509530400 + s},778001,35.{s:02d},40\n" for s in range(10))
    df, rep = read_any(_write(tmp_path, "q.csv", f"time,icao24,lat,lon\n{rows}1509530500,\"778001,35,40\n{rows}"
                              .encode()))
    assert df.height == 20 and rep.dropped == {"malformed CSV row": 1}


# --- format detection ---------------------------------------------------------------------------------

def test_detection_is_a_vote_not_the_first_line(tmp_path):
    frames = all_samples()["frames_text"].records[:200]
    with_msg = _write(tmp_path, "a.txt", frames[0] + b"MSG,3,garbage\n" + b"".join(frames[1:]))
    assert detect(with_msg) == "frames"
    jsonl = all_samples()["opensky"].records
    assert detect(_write(tmp_path, "b.jsonl", b"garbage first line\n" + b"".join(jsonl))) == "opensky"
    beast = all_samples()["beast"].records
    assert detect(_write(tmp_path, "c.bin", b"\x00junk" + b"".join(beast))) == "beast"


# --- CoT ----------------------------------------------------------------------------------------------

def test_a_cut_cot_event_does_not_swallow_the_next(tmp_path):
    events = list(all_samples()["cot"].records[:10])
    data = b"".join(events[:4]) + events[4][:150] + b"".join(events[5:])
    df, rep = read_any(_write(tmp_path, "t.cot", data))
    assert df.height == 9 and rep.dropped == {"malformed CoT event": 1}
    decoder = CotDecoder("live")
    for k in range(0, len(data), 97):
        decoder.feed(data[k:k + 97], 0.0)
    assert decoder.finish().height == 9 and decoder.bad == {"malformed CoT event": 1}


# --- live: bounded lines, Beast clock -----------------------------------------------------------------

def test_an_endless_live_line_does_not_grow_memory(tmp_path):
    decoder = SbsDecoder("live")
    good = all_samples()["sbs"].records[:20]
    decoder.feed(b"".join(good[:10]), 0.0)
    for _ in range(200):  # 20 MB and never a newline
        decoder.feed(b"x" * 100_000, 0.0)
        assert len(decoder.rest) <= MAX_LINE
    decoder.feed(b"\n" + b"".join(good[10:]), 0.0)
    assert decoder.finish().height == sbs.parse_lines([g.decode() for g in good], Counter()).filter(
        pl.col("lat").is_not_null()).height
    assert decoder.bad == {"overlong line": 1}
    cot_decoder = CotDecoder("live")
    for _ in range(30):
        cot_decoder.feed(b"<event " + b"a" * 100_000, 0.0)
    assert len(cot_decoder.rest) <= cot.MAX_EVENT + 200_000


def test_beast_clock_survives_a_damaged_tick_and_a_restart():
    objs = frame_lines()[:400]
    t0 = objs[0]["timestamp"]
    ticks = [int((o["timestamp"] - t0) * 12e6) + 1000 for o in objs]
    clean = BeastDecoder("a", None)
    clean.feed(b"".join(beast_message(t, o["frame"]) for t, o in zip(ticks, objs)), 100.0)
    want = clean.finish()
    spiked = list(ticks)
    spiked[50] += 1 << 40  # one damaged clock value
    damaged = BeastDecoder("b", None)
    damaged.feed(b"".join(beast_message(t, o["frame"]) for t, o in zip(spiked, objs)), 100.0)
    got = damaged.finish()
    assert damaged.bad == {"implausible receiver timestamp": 1}
    assert got.join(want, on=["track_id", "time", "lat", "lon"], how="anti").height == 0
    assert want.height - got.height <= 1
    restarted = BeastDecoder("c", None)  # the receiver restarts: its clock starts again from zero
    restarted.feed(b"".join(beast_message(t, o["frame"]) for t, o in zip(ticks[:200], objs[:200])), 100.0)
    restarted.feed(b"".join(beast_message(t - ticks[200] + 5, o["frame"])
                            for t, o in zip(ticks[200:], objs[200:])), 200.0)
    assert not restarted.bad and restarted.finish().height >= want.height - 2


# --- analyze on ordinary data -------------------------------------------------------------------------

def test_country_lookup_with_mixed_ids_in_any_order():
    for ids in (["~abc123", "778001", "ICAO-x"], ["778001", "~abc123"], [None, "ae0455"]):
        got = address_country(pl.Series(ids, dtype=pl.String)).to_list()
        assert got == [{"778001": "Syria", "ae0455": "United States"}.get(i) for i in ids]


@pytest.mark.parametrize("rows", [0, 1, 2])
def test_analyze_on_zero_one_or_two_states(tmp_path, rows):
    from skyfence.analysis.run import analyze
    from skyfence.synthetic import straight_track

    df = straight_track(39.9, 35.0, 45, 220, 600, 4, track_id="778b01", callsign="SYR9").head(rows)
    mixed = pl.concat([df, df.with_columns(pl.lit("~2f0001").alias("track_id"))]) if rows else df
    path = tmp_path / "t.parquet"
    mixed.write_parquet(path)
    result = analyze([path], load_agreement("euphrates-2017"), tmp_path / "out")
    assert result.summary["tracks"]["states"] == mixed.height


# --- agreements ---------------------------------------------------------------------------------------

def _alias_bomb(levels: int) -> str:
    lines = ["g0: &g0 {type: Point, coordinates: [40, 35]}"]
    lines += [f"g{i}: &g{i} {{type: GeometryCollection, geometries: [*g{i - 1}, *g{i - 1}, *g{i - 1}]}}"
              for i in range(1, levels)]
    return "\n".join(lines) + f"\nname: x\nline: {{geojson: *g{levels - 1}}}\n"


@pytest.mark.parametrize("text, words", [
    ("name: x\nparties: " + "[" * 3000 + "]" * 3000 + "\n", "nested more than"),
    (_alias_bomb(14), "aliases expand to more than"),
    ("a: &a [1, *a]\nname: x\n", "cycle"),
])
def test_agreement_limits_answer_at_once(tmp_path, text, words):
    path = _write(tmp_path, "a.yaml", text.encode())
    started = time.perf_counter()
    with pytest.raises(AgreementError, match=words):
        load_agreement(path)
    assert time.perf_counter() - started < 1.0


def test_deep_geojson_is_one_error(tmp_path):
    shutil.copy(ROOT / "src" / "skyfence" / "agreements" / "euphrates-2017.geojson", tmp_path)
    text = (ROOT / "src" / "skyfence" / "agreements" / "euphrates-2017.yaml").read_text()
    deep = _write(tmp_path, "deep.geojson", ('{"type":"GeometryCollection","geometries":[' * 3000
                                             + "]}" * 3000).encode())
    line_start = text.index("\nline:")
    line_end = text.index("\n", text.index("file:", line_start))
    path = _write(tmp_path, "a.yaml", (text[:line_start] + f"\nline:\n  file: {deep.name}" + text[line_end:]).encode())
    proc = _cli("agreement", "validate", str(path))
    assert proc.returncode == 2 and "nested too deeply" in proc.stderr and len(proc.stderr.splitlines()) == 1


# --- options and the command line --------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["--step", "1e-9"], "--step must be"), (["--reference", "nan,nan"], "--reference"),
    (["--step", "abc"], "Invalid value for '--step'"),
])
def test_bad_options_are_one_line(tmp_path, args, words, shared):
    proc = _cli("analyze", str(shared / "raw" / "beast_sample.bin"), "-o", str(tmp_path / "o"), *args)
    assert proc.returncode == 2 and words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_quantities_must_be_finite():
    for text in ("1e400 s", float("nan"), float("inf")):
        with pytest.raises(UnitError):
            parse_duration(text)


def _unprivileged_python() -> str | None:
    """A Python an unprivileged user may run, with this one's packages importable (or None)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (os.path.realpath(sys.executable), f"/usr/bin/{version}", f"/usr/local/bin/{version}"):
        try:
            if subprocess.run([candidate, "-c", "pass"], user=65534, group=65534, capture_output=True).returncode == 0:
                return candidate
        except OSError:
            continue
    return None


def _as_nobody(*args: str, cwd: str = "/") -> subprocess.CompletedProcess:
    python = _unprivileged_python()
    if python is None:
        pytest.skip("needs root and a Python an unprivileged user can run")
    site = next(p for p in sys.path if p.endswith("site-packages"))
    env = {"HOME": "/nonexistent", "PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT / 'src'}:{site}",
           "COLUMNS": "200"}
    return subprocess.run([python, *args], user=65534, group=65534, env=env, capture_output=True, text=True,
                          cwd=cwd)


def test_import_without_a_writable_home_or_package_folder():
    proc = _as_nobody("-c", "import skyfence, skyfence.tracks.align")
    assert proc.returncode == 0, proc.stderr[-500:]


@pytest.mark.parametrize("reach", ["file", "folder"])
def test_an_unreadable_file_is_one_line(tmp_path, reach):
    """A file only root may read, or one in a folder only root may enter: one line, exit 2."""
    import tempfile

    folder = Path(tmp_path if reach == "folder" else tempfile.mkdtemp(prefix="skyfence-unreadable-"))
    folder.chmod(0o700 if reach == "folder" else 0o755)
    path = _write(folder, "secret.csv", b"time,icao24,lat,lon\n")
    path.chmod(0o600)
    try:
        proc = _as_nobody("-m", "skyfence", "analyze", str(path), "-o", "/tmp/skyfence-unreadable-out")
    finally:
        if reach == "file":
            shutil.rmtree(folder)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
