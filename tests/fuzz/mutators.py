"""Seeded mutations of a sample: what was damaged, and what a reader must still give back.

Every mutation takes a sample and a ``random.Random`` and returns a
:class:`Mutant`: the damaged file's bytes, the records it left untouched
(``kept``, in file order, duplicates included), the number of bad records it
added when that number is certain (``bad``; None where a mutation may or may
not make a record unreadable, such as a flipped byte), and whether it
touched what all records share (a header, a document's frame: then only
"no crash" is asked). The same seed gives the same mutant.
"""

from __future__ import annotations

import gzip
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from tests.fuzz.samples import IMPOSSIBLE_SECONDS, Sample


@dataclass
class Mutant:
    mutation: str
    data: bytes
    kept: list[bytes]  # the untouched records, in the order they are in the mutant
    bad: int | None = 0  # bad records added, when certain
    shared: bool = False  # the prefix, suffix or separators were touched
    order_free: bool = False  # kept records are compared as a set with the clean sample (duplicates, order)
    gzip: bool = False
    damaged: bool | None = None  # gzip: zlib finds damage (the reader must count it)
    note: str = ""


def spans(sample: Sample) -> tuple[list[tuple[int, int]], bytes]:
    """The byte span of every record in the built file, and the file."""
    out, pos = [], len(sample.prefix)
    for i, r in enumerate(sample.records):
        if i:
            pos += len(sample.sep)
        out.append((pos, pos + len(r)))
        pos += len(r)
    return out, sample.build()


def _by_bytes(sample: Sample, name: str, damaged: list[tuple[int, int]], data: bytes, note: str) -> Mutant:
    """A mutant made by damaging byte ranges [a, b) of the clean file: records overlapping (or touching, for
    deletions and cuts) a damaged range are not kept."""
    rec, clean = spans(sample)
    kept, shared = [], False
    body_start, body_end = len(sample.prefix), len(clean) - len(sample.suffix)
    for a, b in damaged:
        if a < body_start or b > body_end or (not sample.records and a < len(clean)):
            shared = True
    for (s, e), r in zip(rec, sample.records):
        hit = any(a <= e and b >= s for a, b in damaged)  # touching counts: a record glued to damage is damaged
        if not hit:
            kept.append(r)
    if sample.sep:  # a separator damaged: its neighbours are suspect too (handled by touching), others shared
        for a, b in damaged:
            for (s, e), (s2, _) in zip(rec, rec[1:]):
                if a < s2 and b > e and not (a <= e and b >= s2):
                    shared = True
    return Mutant(name, data, kept, None, shared, note=note)


def byte_flip(sample: Sample, rng: random.Random) -> Mutant:
    _, clean = spans(sample)
    data = bytearray(clean)
    where = sorted(rng.sample(range(len(data)), k=min(len(data), rng.randint(1, 3))))
    for w in where:
        data[w] ^= 1 << rng.randrange(8)
    return _by_bytes(sample, "byte_flip", [(w, w + 1) for w in where], bytes(data), f"at {where}")


def truncate(sample: Sample, rng: random.Random) -> Mutant:
    _, clean = spans(sample)
    cut = rng.randrange(len(sample.prefix), len(clean))
    m = _by_bytes(sample, "truncate", [(cut, len(clean))], clean[:cut], f"at {cut}")
    m.shared = m.shared and cut < len(sample.prefix)
    return m


def chunk_delete(sample: Sample, rng: random.Random) -> Mutant:
    _, clean = spans(sample)
    a = rng.randrange(len(sample.prefix), len(clean))
    b = min(len(clean), a + rng.randint(1, 300))
    return _by_bytes(sample, "chunk_delete", [(a, b)], clean[:a] + clean[b:], f"[{a}, {b})")


def garbage(sample: Sample, rng: random.Random) -> Mutant:
    """Garbage records (lines, text, bytes) between records: each one bad record."""
    if sample.garbage is None:
        return duplicate(sample, rng)
    records = list(sample.records)
    k = rng.randint(1, 4)
    slots = sorted(rng.sample(range(1, len(records)), k), reverse=True)
    for j, at in enumerate(slots):
        records.insert(at, sample.garbage(rng.randrange(16) + j))
    return Mutant("garbage", sample.build(records), list(sample.records), k, note=f"{k} at {slots}")


def impossible_time(sample: Sample, rng: random.Random) -> Mutant:
    """Records whose time no receiver can produce: each counted as bad, none kept."""
    if sample.bad_time is None:
        return garbage(sample, rng)
    records = list(sample.records)
    picks = rng.sample(range(len(records)), rng.randint(1, 3))
    bad = 0
    for i in picks:
        bad += sample.units(records[i])
        records[i] = sample.bad_time(records[i], rng.choice(IMPOSSIBLE_SECONDS))
    kept = [r for i, r in enumerate(sample.records) if i not in picks]
    return Mutant("impossible_time", sample.build(records), kept, bad, note=f"records {picks}")


def wrong_type(sample: Sample, rng: random.Random) -> Mutant:
    """A field of the wrong type or an unreadable value (text for a number, a number for text, null)."""
    if sample.bad_type is None:
        return impossible_time(sample, rng)
    records = list(sample.records)
    picks = rng.sample(range(len(records)), rng.randint(1, 3))
    bad = 0
    for i in picks:
        edited = sample.bad_type(records[i], rng.randrange(16))
        bad += sample.units(edited) if sample.name == "opensky" else 1
        records[i] = edited
    kept = [r for i, r in enumerate(sample.records) if i not in picks]
    return Mutant("wrong_type", sample.build(records), kept, bad, note=f"records {picks}")


def duplicate(sample: Sample, rng: random.Random) -> Mutant:
    records = list(sample.records)
    for _ in range(rng.randint(1, 5)):
        i = rng.randrange(len(records))
        records.insert(rng.randrange(len(records)), records[i])
    return Mutant("duplicate", sample.build(records), list(sample.records), None, order_free=True)


def reorder(sample: Sample, rng: random.Random) -> Mutant:
    records = list(sample.records)
    a = rng.randrange(len(records) - 1)
    b = min(len(records), a + rng.randint(2, 30))
    window = records[a:b]
    rng.shuffle(window)
    records[a:b] = window
    return Mutant("reorder", sample.build(records), list(sample.records), 0, order_free=True, note=f"[{a}, {b})")


def line_endings(sample: Sample, rng: random.Random) -> Mutant:
    """CRLF, CR alone, or a mix: the same records."""
    if sample.binary:
        return duplicate(sample, rng)
    style = rng.choice(["crlf", "cr", "mixed"])
    clean = sample.build()
    if style == "crlf":
        data = clean.replace(b"\n", b"\r\n")
    elif style == "cr":
        data = clean.replace(b"\n", b"\r")
    else:
        data = b"".join(line + (b"\r\n" if rng.random() < 0.5 else b"\n") for line in clean.split(b"\n")[:-1])
    return Mutant("line_endings", data, list(sample.records), 0, note=style)


def gzip_damage(sample: Sample, rng: random.Random) -> Mutant:
    """The file gzip-compressed, then damaged: a flipped byte, a cut, or junk after it. What decompresses
    the same as the clean file before the first difference is kept (records wholly inside it)."""
    clean = sample.build()
    packed = bytearray(gzip.compress(clean, mtime=0))
    how = rng.choice(["flip", "cut", "junk", "flip"])
    if how == "flip":
        w = rng.randrange(10, len(packed))
        packed[w] ^= 1 << rng.randrange(8)
    elif how == "cut":
        packed = packed[:rng.randrange(10, len(packed))]
    else:
        packed += bytes(rng.randrange(1, 256) for _ in range(rng.randint(1, 40)))
    data = bytes(packed)
    good, damaged = _inflatable(data)
    same = 0
    while same < min(len(good), len(clean)) and good[same] == clean[same]:
        same += 1
    rec, _ = spans(sample)
    kept = [r for (s, e), r in zip(rec, sample.records) if e <= same]
    return Mutant("gzip_damage", data, kept, None, same < len(sample.prefix), gzip=True, damaged=damaged,
                  note=how + (" (damaged)" if damaged else ""))


def _inflatable(data: bytes) -> tuple[bytes, bool]:
    """What zlib gives, a byte at a time, before the first error; and whether there was damage."""
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    out = []
    for i in range(len(data)):
        try:
            out.append(d.decompress(data[i:i + 1]))
        except zlib.error:
            return b"".join(out), True
        if d.eof:
            rest = data[i + 1:]
            return b"".join(out), bool(rest.strip(b"\0"))
    return b"".join(out), not d.eof


MUTATIONS: dict[str, Callable[[Sample, random.Random], Mutant]] = {
    "byte_flip": byte_flip, "truncate": truncate, "chunk_delete": chunk_delete, "garbage": garbage,
    "impossible_time": impossible_time, "wrong_type": wrong_type, "duplicate": duplicate, "reorder": reorder,
    "line_endings": line_endings, "gzip_damage": gzip_damage,
}


def mutate(sample: Sample, mutation: str, seed: int) -> Mutant:
    """The mutant of ``sample`` for ``mutation`` and ``seed`` (always the same)."""
    if sample.builder is not None:
        from tests.fuzz.parquet import mutate_parquet

        return mutate_parquet(sample, mutation, seed)
    return MUTATIONS[mutation](sample, random.Random(f"{sample.name}/{mutation}/{seed}"))
