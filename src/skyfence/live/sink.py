"""Hourly Parquet output that loses nothing: small part files as data comes, one file per hour when it closes.

States are buffered for a few seconds, then written as a part file (written
to a temporary name and renamed, so a part is whole or absent) under
``.STEM.parts/HOUR/``. An hour is compacted into ``STEM-YYYYMMDDTHH.parquet``
(sorted by time, duplicates of the same aircraft and time removed) once the
data has moved ``lateness`` seconds past its end, and every hour is compacted
when the sink closes. Parts left by a run that was killed are compacted when
the next run starts. Hours are those of the data's own times (UTC).
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from skyfence.errors import InputError
from skyfence.tracks.schema import conform

HOUR_FORMAT = "%Y%m%dT%H"


class HourlySink:
    def __init__(self, out: str | Path, flush_rows: int = 200_000, lateness: float = 120.0) -> None:
        out = Path(out)
        if out.suffix.lower() in (".parquet", ".pq"):
            self.dir, self.stem = out.parent, out.stem
        else:
            self.dir, self.stem = out, "tracks"
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{self.dir}: cannot create the output folder ({exc.strerror})") from None
        self.parts = self.dir / f".{self.stem}.parts"
        self.flush_rows = flush_rows
        self.lateness = timedelta(seconds=lateness)
        self.buffer: list[pl.DataFrame] = []
        self.buffered = 0
        self.rows_written = 0  # states accepted (written to parts)
        self.duplicates = 0  # of them, the same aircraft at the same time again (removed when an hour closes)
        self.files: set[Path] = set()
        self.open_hours: set[str] = set()
        self.latest: datetime | None = None
        self._seq = 0
        self.recovered = self._recover()

    def recorded(self, since: datetime) -> pl.DataFrame:
        """The states recorded so far (by this run or one before it) from ``since`` on."""
        from skyfence.tracks.schema import empty_tracks

        first = since.strftime(HOUR_FORMAT)
        files = [f for f in sorted(self.dir.glob(f"{self.stem}-*.parquet"))
                 if f.stem[len(self.stem) + 1:] >= first]
        if not files:
            return empty_tracks()
        return conform(pl.concat([pl.read_parquet(f) for f in files], how="vertical_relaxed")).filter(
            pl.col("time") >= since)

    def latest_recorded(self) -> datetime | None:
        """The time of the latest state on disk (None for a new recording)."""
        files = sorted(self.dir.glob(f"{self.stem}-*.parquet"))
        if not files:
            return None
        return pl.scan_parquet(files[-1]).select(pl.col("time").max()).collect().item()

    def final(self, hour: str) -> Path:
        return self.dir / f"{self.stem}-{hour}.parquet"

    def write(self, states: pl.DataFrame) -> None:
        if states.height == 0:
            return
        self.buffer.append(states)
        self.buffered += states.height
        if self.buffered >= self.flush_rows:
            self.flush()

    def flush(self) -> None:
        """Buffered states to part files; hours the data has left behind are compacted."""
        if self.buffer:
            df = conform(pl.concat(self.buffer, how="vertical_relaxed"))
            self.buffer, self.buffered = [], 0
            df = df.with_columns(pl.col("time").dt.strftime(HOUR_FORMAT).alias("_hour"))
            for (hour,), part in df.group_by("_hour"):
                self._write_part(hour, part.drop("_hour"))
                self.open_hours.add(hour)
            latest = df["time"].max()
            self.latest = latest if self.latest is None else max(self.latest, latest)
        if self.latest is not None:
            for hour in sorted(self.open_hours):
                end = datetime.strptime(hour, HOUR_FORMAT).replace(tzinfo=timezone.utc) + timedelta(hours=1)
                if self.latest >= end + self.lateness:
                    self._compact(hour)

    def close(self) -> None:
        self.flush()
        for hour in sorted(self.open_hours):
            self._compact(hour)
        if self.parts.exists() and not any(self.parts.iterdir()):
            self.parts.rmdir()

    def _write_part(self, hour: str, part: pl.DataFrame) -> None:
        folder = self.parts / hour
        folder.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        name = folder / f"part-{os.getpid()}-{self._seq:08d}.parquet"
        tmp = name.with_suffix(".tmp")
        part.write_parquet(tmp, compression="zstd")
        os.replace(tmp, name)
        self.rows_written += part.height

    def _compact(self, hour: str) -> None:
        folder = self.parts / hour
        parts = sorted(folder.glob("part-*.parquet")) if folder.exists() else []
        final = self.final(hour)
        if parts:
            frames = [pl.read_parquet(final)] if final.exists() else []
            frames += [pl.read_parquet(p) for p in parts]
            merged = conform(pl.concat(frames, how="vertical_relaxed"))
            df = merged.unique(["track_id", "time"], keep="first", maintain_order=True).sort(["time", "track_id"])
            self.duplicates += merged.height - df.height
            tmp = final.with_suffix(".tmp")
            df.write_parquet(tmp, compression="zstd", statistics=True)
            os.replace(tmp, final)
            for p in parts:
                p.unlink()
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        if final.exists():
            self.files.add(final)
        self.open_hours.discard(hour)

    def _recover(self) -> int:
        """Compact the parts a killed run left; the number of hours recovered."""
        if not self.parts.exists():
            return 0
        hours = [p.name for p in self.parts.iterdir() if p.is_dir()]
        for tmp in self.parts.rglob("*.tmp"):
            tmp.unlink()
        for hour in hours:
            self._compact(hour)
        return len(hours)
