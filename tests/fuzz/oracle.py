"""Running a reader on a mutant and judging it against the clean run of the records it left untouched.

The promise checked, for every case: no exception escapes but one clear
error (``SkyfenceError``, exit status 2); every state the untouched records
give in a clean file comes back, identical in the sample's compared columns;
the bad-record count rises by exactly the number of bad records added where
the mutation makes that number certain; gzip damage is counted. Optionally
the states then go through cleaning and :func:`detect_events` (what
``analyze`` does), which must not fail either.
"""

from __future__ import annotations

import hashlib
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from skyfence.errors import SkyfenceError
from skyfence.sources.formats import read_any
try:
    from skyfence.sources.textio import GZIP_DAMAGED, GZIP_TRAILING
except ImportError:
    GZIP_DAMAGED = GZIP_TRAILING = "x"
from skyfence.tracks.schema import empty_tracks
from tests.fuzz.mutators import Mutant, mutate
from tests.fuzz.samples import Sample

_EXPECTED: dict[tuple[str, str], tuple[pl.DataFrame, int]] = {}


@dataclass
class Outcome:
    reader: str
    mutation: str
    seed: int
    status: str = "ok"  # ok | error (exit 2) | crash | hang
    lost: int = 0  # good states that did not come back
    wrong_count: bool = False
    problems: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("crash", "hang") or bool(self.lost) or self.wrong_count or bool(self.problems)

    def describe(self) -> str:
        return f"{self.reader}/{self.mutation}/{self.seed} [{self.note}]: {self.status}; " + "; ".join(self.problems)


def read(sample: Sample, path: Path) -> tuple[pl.DataFrame, dict]:
    """The reader a user gets (format detected), as ``analyze`` and ``ingest`` call it."""
    df, report = read_any(path, beast_start=sample.meta.get("start"))
    return df, dict(report.dropped)


def expected(sample: Sample, records: list[bytes], folder: Path) -> tuple[pl.DataFrame, int]:
    """States and bad-record count of a clean file of ``records`` (cached)."""
    data = sample.build(records)
    key = (sample.name, hashlib.sha1(data).hexdigest())
    if key not in _EXPECTED:
        path = folder / f"clean-{sample.filename}"
        path.write_bytes(data)
        try:
            df, bad = read(sample, path)
        except SkyfenceError:
            df, bad = empty_tracks(), {}
        _EXPECTED[key] = (df, sum(bad.values()))
    return _EXPECTED[key]


def run_case(sample: Sample, mutation: str, seed: int, folder: Path, analyze: bool = False) -> Outcome:
    """One fuzz case, judged."""
    m = mutate(sample, mutation, seed)
    out = Outcome(sample.name, mutation, seed, note=m.note)
    path = folder / (sample.filename + (".gz" if m.gzip else ""))
    path.write_bytes(m.data)
    try:
        got, bad = read(sample, path)
    except SkyfenceError as exc:
        out.status, got, bad = "error", None, {}
        message = str(exc)
        if "\n" in message:
            out.problems.append(f"error message of several lines: {message!r}")
    except BaseException as exc:  # noqa: BLE001 - a crash is what the fuzzer is here to find
        if isinstance(exc, KeyboardInterrupt):
            raise
        out.status = "crash"
        out.problems.append("".join(traceback.format_exception_only(exc)).strip()[:300])
        out.note += " " + traceback.format_exc()[-1500:]
        return out
    finally:
        path.unlink(missing_ok=True)
    if m.shared:
        return out  # a header or a document's frame was damaged: only "no crash" is asked
    _judge(sample, m, got, bad, folder, out)
    if analyze and got is not None and out.status == "ok":
        _analyze(got, out)
    return out


def _judge(sample: Sample, m: Mutant, got: pl.DataFrame | None, bad: dict, folder: Path, out: Outcome) -> None:
    want, want_bad = expected(sample, sample.records if m.order_free else m.kept, folder)
    if got is None:
        if want.height:
            out.lost = want.height
            out.problems.append(f"one error, but {want.height} good states were in the file")
        return
    cols = list(sample.compare)
    w, g = want.select(cols), got.select(cols)
    if sample.shift_times and w.height and g.height:
        g = _aligned(g, w)
    lost = w.join(g, on=cols, how="anti", nulls_equal=True)
    if lost.height:
        out.lost = lost.height
        out.problems.append(f"{lost.height} of {w.height} good states lost, e.g. {_rows(lost)}")
    if m.mutation in ("garbage", "impossible_time", "line_endings", "reorder"):
        extra = g.unique().join(w, on=cols, how="anti", nulls_equal=True)
        if extra.height:
            out.problems.append(f"{extra.height} states that are not in the file, e.g. {_rows(extra)}")
    total = sum(bad.values())
    if m.bad is not None and total - want_bad != m.bad:
        out.wrong_count = True
        out.problems.append(f"bad records counted {total - want_bad}, added {m.bad} ({bad})")
    if m.damaged is not None:
        counted = bool(bad.get(GZIP_DAMAGED) or bad.get(GZIP_TRAILING))
        if counted != m.damaged:
            out.wrong_count = True
            out.problems.append(f"gzip damage {'not ' if m.damaged else ''}counted ({bad})")


def _rows(df: pl.DataFrame, n: int = 2) -> list[dict]:
    return df.head(n).with_columns(pl.col(pl.Datetime).cast(pl.String)).to_dicts()


def _aligned(got: pl.DataFrame, want: pl.DataFrame) -> pl.DataFrame:
    """``got`` with its times moved by the one shift that best matches ``want`` (a Beast file or feed has no
    absolute time: a reader may place it differently, but never its messages relative to each other).

    The anchor's fraction of a microsecond rounds either way, so a state that is not at its clean time
    exactly is paired with the clean state at the same position within 2 us (in time order, one to one:
    a recording may hold the same position twice, microseconds apart)."""
    pos = ["track_id", "lat", "lon"]
    pairs = got.join(want, on=pos, suffix="_w")
    if pairs.height == 0:
        return got
    shift = (pairs["time_w"] - pairs["time"]).mode().sort()[0]
    moved = got.with_row_index("_r").with_columns(pl.col("time") + shift)
    exact = moved.join(want, on=["track_id", "time", "lat", "lon"], how="semi")
    rest = moved.join(exact, on="_r", how="anti")
    free = want.join(exact, on=["track_id", "time", "lat", "lon"], how="anti")

    def ranked(df: pl.DataFrame) -> pl.DataFrame:
        return df.sort("time").with_columns(pl.col("time").rank("ordinal").over(pos).alias("_k"))

    near = (ranked(rest).join(ranked(free).select(*pos, "_k", pl.col("time").alias("_w")), on=[*pos, "_k"])
            .filter((pl.col("_w") - pl.col("time")).abs() <= pl.duration(microseconds=2)).select("_r", "_w"))
    return (moved.join(near, on="_r", how="left").with_columns(pl.coalesce("_w", "time").alias("time"))
            .drop("_r", "_w").select(got.columns))


def _analyze(states: pl.DataFrame, out: Outcome) -> None:
    """Cleaning and the detectors on what was read, as ``analyze`` runs them."""
    from skyfence.agreement import load_agreement
    from skyfence.analysis.pipeline import detect_events
    from skyfence.sources.tabular import ReadReport
    from skyfence.tracks.clean import clean

    agreement = load_agreement("euphrates-2017")
    try:
        df, _ = clean(states, ReadReport(rows_read=states.height),
                      flight_gap=agreement.thresholds.crossing.flight_gap)
        df = df.with_columns(agreement.identifier.assign(df["track_id"], df["callsign"]))
        detect_events(df, agreement)
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt):
            raise
        out.status = "crash"
        out.problems.append("analyze: " + "".join(traceback.format_exception_only(exc)).strip()[:300])
        out.note += " " + traceback.format_exc()[-1500:]
