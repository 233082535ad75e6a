"""Identities for simulated aircraft: unique ICAO addresses from real blocks, plausible callsigns."""

from __future__ import annotations

import numpy as np

from skyfence.agreement.identify import icao_blocks, parse_hex_range
from skyfence.errors import SkyfenceError
from skyfence.sim.scenario import Identity


class Addresses:
    """Hands out unique 24-bit addresses from a party's ranges (hex ranges first, else its States' blocks)."""

    def __init__(self, identity: Identity, rng: np.random.Generator, taken: set[int]) -> None:
        ranges = [parse_hex_range(r) for r in identity.hex_ranges]
        blocks = icao_blocks()
        for country in identity.countries:
            found = blocks.ranges_of(country)
            if not found:
                raise SkyfenceError(f"no ICAO address block for {country!r}")
            ranges += found
        if not ranges:
            raise SkyfenceError("an identity needs hex_ranges or countries")
        self.ranges, self.rng, self.taken = ranges, rng, taken

    def next(self) -> str:
        for _ in range(1000):
            lo, hi = self.ranges[int(self.rng.integers(len(self.ranges)))]
            a = int(self.rng.integers(lo, hi + 1))
            if a not in self.taken:
                self.taken.add(a)
                return f"{a:06x}"
        raise SkyfenceError("ran out of ICAO addresses")


class Callsigns:
    """Callsigns from a prefix: flights of two (RAPTOR11, RAPTOR12, ...) or numbers (RFF4021)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng, self.used = rng, set()

    def next(self, prefix: str) -> str:
        width = max(2, 8 - len(prefix))
        for _ in range(1000):
            if len(prefix) >= 5:
                sign = f"{prefix}{int(self.rng.integers(1, 10))}{int(self.rng.integers(1, 5))}"
            else:
                sign = f"{prefix}{int(self.rng.integers(10 ** (width - 1), 10 ** width))}"
            if sign not in self.used:
                self.used.add(sign)
                return sign
        return f"{prefix}{len(self.used)}"
