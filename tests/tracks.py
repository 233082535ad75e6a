"""Small synthetic track sets for tests."""

import polars as pl

from skyfence import synthetic


def crossing_tracks() -> pl.DataFrame:
    """A few straight flights over Deir ez-Zor: a Syrian and a US jet cross the Euphrates, two do not."""
    t0 = synthetic.EPOCH_2017
    flights = [
        synthetic.straight_track(39.90, 35.00, 45, 220, 600, 4, t0, "778a01", "SYR101"),       # deep, across
        synthetic.straight_track(40.60, 34.80, 300, 200, 500, 4, t0 + 3600, "150a02", "RFF2041"),  # west side only
        synthetic.straight_track(40.30, 35.60, 225, 230, 700, 4, t0 + 7200, "ae1c01", "RCH331"),   # coalition, across
        synthetic.straight_track(40.50, 35.90, 135, 210, 900, 4, t0 + 9000, "ae1c02", "HOMER21"),  # stays east
    ]
    return pl.concat(flights)
