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


# decimals that make sense for each unit, by the column's name: feet to the foot, nautical miles to 2 m,
# kilometres to 10 m, seconds to the tenth, degrees of position to about a metre
DECIMALS = {"ft": 0, "nm": 3, "km": 2, "s": 1, "lat": 5, "lon": 5, "peak": 2}


def decimals(name: str) -> int | None:
    """How many decimals a column's values are written with, by its unit (``_ft``, ``_nm``, ``_km``, ``_s``) or
    its being a latitude or longitude (``lat``, ``entry_lat``, ``lat_at_min``); None: as they are."""
    words = name.split("_")
    for word in (words[-1], *words):
        if word in DECIMALS and (word not in ("ft", "nm", "km", "s") or word == words[-1]):
            return DECIMALS[word]
    return None


def rounded(df: pl.DataFrame) -> pl.DataFrame:
    """The table with each float column rounded to its unit's sense (``1999.999878`` ft is 2000 ft)."""
    exprs = [pl.col(c).round(decimals(c)) for c, t in df.schema.items() if t.is_float() and decimals(c) is not None]
    return df.with_columns(exprs) if exprs else df


def write_table(df: pl.DataFrame, out: Path, stem: str) -> list[Path]:
    """``stem.csv`` (values rounded to their unit's sense, for people) and ``stem.parquet`` (full precision, for
    programs) in ``out``."""
    csv, parquet = out / f"{stem}.csv", out / f"{stem}.parquet"
    rounded(df).write_csv(csv, datetime_format=ISO)
    df.write_parquet(parquet, compression="zstd")
    return [csv, parquet]


def _clean_json(value, key: str = ""):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, float) and decimals(key) is not None:
        return round(value, decimals(key))
    if isinstance(value, dict):
        return {str(k): _clean_json(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v, key) for v in value]
    return value


def write_json(data: dict, path: Path) -> Path:
    """Pretty JSON with non-finite numbers as null, values under unit-named keys rounded to the unit's sense."""
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
