"""The Parquet sample and its mutations: rows edited and written again, or the file's bytes damaged.

Records are rows (kept as JSON so that a sample is records like any other);
the file is written in row groups of ``GROUP`` rows. A damaged byte spoils
the row group it falls in (pages carry no checksum, so the group may read
wrong or not at all); the other row groups must come back. Damage to the
magic bytes or the footer is damage to what every row needs.
"""

from __future__ import annotations

import io
import json
import random

import polars as pl
import pyarrow.parquet as pq

from tests.fuzz.mutators import Mutant
from tests.fuzz.samples import IMPOSSIBLE_SECONDS, Sample, parquet_rows

GROUP = 20
SCHEMA = {"time": pl.Float64, "icao24": pl.String, "callsign": pl.String, "lat": pl.Float64, "lon": pl.Float64,
          "altitude": pl.Float64}


def _write(records: list[bytes], lat_as_text: bool = False) -> bytes:
    rows = [json.loads(r) for r in records]
    schema = dict(SCHEMA, lat=pl.String) if lat_as_text else SCHEMA
    df = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    buf = io.BytesIO()
    df.write_parquet(buf, row_group_size=GROUP, compression="zstd", statistics=False)
    return buf.getvalue()


def parquet_sample() -> Sample:
    rows = parquet_rows()
    records = [json.dumps(list(r)).encode() for r in rows.iter_rows()]
    sample = Sample("parquet", "tracks.parquet", "parquet", records, binary=True)
    sample.builder = _write
    return sample


def _groups(data: bytes) -> tuple[list[tuple[int, int]], int]:
    """Byte span of every row group, and where the footer starts."""
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    spans = []
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        starts, ends = [], []
        for c in range(rg.num_columns):
            col = rg.column(c)
            first = col.dictionary_page_offset if col.has_dictionary_page and col.dictionary_page_offset else \
                col.data_page_offset
            starts.append(first)
            ends.append(first + col.total_compressed_size)
        spans.append((min(starts), max(ends)))
    footer = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    return spans, footer


def mutate_parquet(sample: Sample, mutation: str, seed: int) -> Mutant:
    rng = random.Random(f"parquet/{mutation}/{seed}")
    records = list(sample.records)
    clean = sample.build()
    if mutation in ("byte_flip", "chunk_delete", "truncate", "gzip_damage"):
        spans, footer = _groups(clean)
        if mutation == "truncate":
            cut = rng.randrange(4, len(clean))
            return Mutant(mutation, clean[:cut], [], None, shared=True, note=f"at {cut}")
        if mutation == "chunk_delete":
            a = rng.randrange(4, footer)
            b = min(len(clean), a + rng.randint(1, 200))
            kept = [r for g, (s, e) in enumerate(spans) if e <= a for r in records[g * GROUP:(g + 1) * GROUP]]
            return Mutant(mutation, clean[:a] + clean[b:], kept, None, shared=b > footer, note=f"[{a}, {b})")
        data = bytearray(clean)
        where = sorted(rng.sample(range(4, footer), rng.randint(1, 2)))
        for w in where:
            data[w] ^= 1 << rng.randrange(8)
        kept = [r for g, (s, e) in enumerate(spans) if not any(s <= w < e for w in where)
                for r in records[g * GROUP:(g + 1) * GROUP]]
        outside = any(not any(s <= w < e for s, e in spans) for w in where)
        return Mutant("byte_flip", bytes(data), kept, None, shared=outside, note=f"at {where}")
    picks = rng.sample(range(len(records)), rng.randint(1, 3))
    kept = [r for i, r in enumerate(records) if i not in picks]
    if mutation == "impossible_time":
        for i in picks:
            row = json.loads(records[i])
            row[0] = float(rng.choice(IMPOSSIBLE_SECONDS + ["inf", "nan"]))
            records[i] = json.dumps(row).encode()
        return Mutant(mutation, _write(records), kept, len(picks), note=f"rows {picks}")
    if mutation == "wrong_type":
        text = [json.dumps([*json.loads(r)[:3], str(json.loads(r)[3]), *json.loads(r)[4:]]).encode() for r in records]
        for i in picks:
            row = json.loads(text[i])
            row[3] = rng.choice(["abc", "north", "1e400", "--"])
            text[i] = json.dumps(row).encode()
        return Mutant(mutation, _write(text, lat_as_text=True), kept, len(picks), note=f"rows {picks}")
    if mutation == "garbage":
        for j, at in enumerate(sorted(picks, reverse=True)):
            records.insert(at, json.dumps([None, f"g{j}", None, None, None, None]).encode())
        return Mutant(mutation, _write(records), list(sample.records), len(picks), note=f"rows at {picks}")
    if mutation == "reorder":
        rng.shuffle(records)
        return Mutant(mutation, _write(records), list(sample.records), 0, order_free=True)
    for _ in range(rng.randint(1, 5)):  # duplicate (and line_endings, which a binary file has not)
        records.insert(rng.randrange(len(records)), records[rng.randrange(len(records))])
    return Mutant("duplicate", _write(records), list(sample.records), None, order_free=True)
