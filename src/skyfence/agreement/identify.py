"""Which party an aircraft belongs to: ICAO address blocks, hex ranges, callsigns, explicit lists.

Rules are tried from the most specific to the least: an explicit icao24 list
wins over a hex range, a hex range over a callsign pattern, a callsign pattern
over the country of the address block. An aircraft no rule matches is
``unknown``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import polars as pl

UNKNOWN = "unknown"


@dataclass(frozen=True)
class IcaoBlocks:
    """The ICAO 24-bit address blocks allocated to States (sorted, non-overlapping)."""

    start: np.ndarray
    end: np.ndarray
    country: np.ndarray

    @classmethod
    def load(cls, path: str | None = None) -> "IcaoBlocks":
        """Read ``icao_blocks.csv`` (the package's copy unless a path is given)."""
        if path is None:
            text = resources.files("skyfence.data").joinpath("icao_blocks.csv").read_text()
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        rows = [r for r in csv.DictReader(text.splitlines()) if r["kind"] == "state"]
        rows.sort(key=lambda r: int(r["start_hex"], 16))
        return cls(
            np.array([int(r["start_hex"], 16) for r in rows], dtype=np.int64),
            np.array([int(r["end_hex"], 16) for r in rows], dtype=np.int64),
            np.array([r["country"] for r in rows], dtype=object),
        )

    @property
    def countries(self) -> set[str]:
        return set(self.country.tolist())

    def ranges_of(self, country: str) -> list[tuple[int, int]]:
        """The address ranges of one State."""
        sel = self.country == country
        return list(zip(self.start[sel].tolist(), self.end[sel].tolist()))

    def country_of(self, address: np.ndarray) -> np.ndarray:
        """The State of each integer address (``None`` where unallocated or invalid, given as -1)."""
        address = np.asarray(address, dtype=np.int64)
        k = np.searchsorted(self.start, address, side="right") - 1
        ok = (k >= 0) & (address >= 0)
        k = np.clip(k, 0, len(self.start) - 1)
        ok &= address <= self.end[k]
        return np.where(ok, self.country[k], None)


@lru_cache(maxsize=1)
def icao_blocks() -> IcaoBlocks:
    """The package's ICAO address block table."""
    return IcaoBlocks.load()


def icao_address(icao24: pl.Series) -> np.ndarray:
    """Hex icao24 strings to integers; -1 for missing, non-ICAO (``~``) or malformed addresses."""
    codes = icao24.cast(pl.String).str.strip_chars().str.to_integer(base=16, strict=False)
    return codes.fill_null(-1).cast(pl.Int64).to_numpy()


def address_country(icao24: pl.Series) -> pl.Series:
    """The State that each address was allocated to (ICAO blocks); null for non-ICAO or unallocated ones."""
    address = icao_address(icao24).copy()
    address[~icao24.cast(pl.String).str.contains(r"^\s*[0-9a-fA-F]{6}\s*$").fill_null(False).to_numpy()] = -1
    return pl.Series("country", icao_blocks().country_of(address).tolist(), dtype=pl.String)


def parse_hex_range(text: str) -> tuple[int, int]:
    """``'AE0000-AFFFFF'`` (or a single address) to an inclusive integer range."""
    parts = [p.strip() for p in text.split("-")]
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or not all(re.fullmatch(r"[0-9A-Fa-f]{1,6}", p) for p in parts):
        raise ValueError(f"{text!r} is not a hex range like 'AE0000-AFFFFF'")
    lo, hi = int(parts[0], 16), int(parts[1], 16)
    if lo > hi:
        raise ValueError(f"{text!r}: the range starts after it ends")
    return lo, hi


@dataclass(frozen=True)
class RangeTable:
    """Non-overlapping inclusive integer ranges, each labelled with a party index."""

    start: np.ndarray
    end: np.ndarray
    label: np.ndarray

    @classmethod
    def build(cls, ranges: list[tuple[int, int, int]]) -> "RangeTable":
        ranges = sorted(ranges)
        return cls(np.array([r[0] for r in ranges], dtype=np.int64),
                   np.array([r[1] for r in ranges], dtype=np.int64),
                   np.array([r[2] for r in ranges], dtype=np.int64))

    def overlaps(self) -> list[tuple[int, int]]:
        """Pairs of positions whose ranges overlap."""
        return [(i, i + 1) for i in range(len(self.start) - 1) if self.start[i + 1] <= self.end[i]]

    def lookup(self, address: np.ndarray) -> np.ndarray:
        """The label of the range holding each address, -1 where none does."""
        if len(self.start) == 0:
            return np.full(len(address), -1, dtype=np.int64)
        k = np.searchsorted(self.start, address, side="right") - 1
        kk = np.clip(k, 0, len(self.start) - 1)
        hit = (k >= 0) & (address >= 0) & (address <= self.end[kk])
        return np.where(hit, self.label[kk], -1)


@dataclass(frozen=True)
class PartyIdentifier:
    """Assigns a party id to every aircraft of a track table."""

    party_ids: tuple[str, ...]
    explicit: RangeTable
    hex_ranges: RangeTable
    callsigns: tuple[tuple[re.Pattern, int], ...]
    countries: RangeTable

    def assign(self, icao24: pl.Series, callsign: pl.Series | None = None) -> pl.Series:
        """The party of each row (``unknown`` where no rule matches), as a categorical column.

        The rules run once per run of rows with the same (address, callsign),
        so a table sorted by aircraft costs little more than its number of
        flights.
        """
        n = len(icao24)
        if callsign is None:
            callsign = pl.repeat(None, n, dtype=pl.String, eager=True)
        keys = pl.DataFrame({"icao24": icao24.cast(pl.String), "callsign": callsign.cast(pl.String)})
        run = keys.select(pl.struct("icao24", "callsign").rle_id()).to_series().to_numpy() if n else np.empty(0, int)
        first = np.flatnonzero(np.diff(run, prepend=-1) != 0)
        heads = keys.select(pl.all().gather(pl.Series(first)))
        address = icao_address(heads["icao24"])
        label = self.countries.lookup(address)
        if self.callsigns:
            by_callsign = self._callsign_labels(heads["callsign"])
            label = np.where(by_callsign >= 0, by_callsign, label)
        for table in (self.hex_ranges, self.explicit):
            hit = table.lookup(address)
            label = np.where(hit >= 0, hit, label)
        label = np.where(label >= 0, label, len(self.party_ids)).astype(np.int32)
        names = pl.Series("party", list(self.party_ids) + [UNKNOWN], dtype=pl.String)
        return names.gather(label[run]).cast(pl.Categorical)

    def _callsign_labels(self, callsign: pl.Series) -> np.ndarray:
        labels = np.full(len(callsign), -1, dtype=np.int64)
        for u, text in enumerate(callsign.str.strip_chars().fill_null("").to_list()):
            for pattern, label in self.callsigns:
                if text and pattern.match(text):
                    labels[u] = label
                    break
        return labels
