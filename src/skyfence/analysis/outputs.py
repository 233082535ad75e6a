"""Writing results: CSV (ISO 8601 UTC times) and Parquet side by side, JSON summaries."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import polars as pl

from skyfence.errors import SkyfenceError

ISO = "%Y-%m-%dT%H:%M:%S%.3fZ"


def prepare_dir(out: Path) -> Path:
    """The output folder, created if needed, or one clear error."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SkyfenceError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    if not out.is_dir():
        raise SkyfenceError(f"{out}: not a folder")
    return out


def write_table(df: pl.DataFrame, out: Path, stem: str) -> list[Path]:
    """``stem.csv`` and ``stem.parquet`` in ``out``."""
    csv, parquet = out / f"{stem}.csv", out / f"{stem}.parquet"
    df.write_csv(csv, datetime_format=ISO, float_precision=6)
    df.write_parquet(parquet, compression="zstd")
    return [csv, parquet]


def _clean_json(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    return value


def write_json(data: dict, path: Path) -> Path:
    """Pretty JSON with non-finite numbers as null."""
    path.write_text(json.dumps(_clean_json(data), indent=2, default=str) + "\n", encoding="utf-8")
    return path


def agreement_geojson(agreement) -> dict:
    """The agreement's line, sides and zones as GeoJSON, with its name and thresholds (SI) under ``skyfence``,
    so that a results folder can be reported and mapped without the agreement file."""
    doc = agreement.to_geojson()
    doc["skyfence"] = {"name": agreement.name, "title": agreement.title, "source": agreement.source,
                       "parties": {p.id: p.name for p in agreement.parties},
                       "thresholds": dataclasses.asdict(agreement.thresholds)}
    return doc
