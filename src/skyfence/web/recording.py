"""A recorded day for the page's replay: the air picture at any moment, and the trails before it.

Loaded once with the batch pipeline's reader (any file or folder ``analyze`` reads, such as the
monitor's ``--record`` folder or ``simulate``'s output), cleaned and assigned to parties by the
agreement, then kept as time-sorted arrays: the picture at ``t`` is each aircraft's last state in
the ``horizon`` seconds before ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from skyfence.agreement.model import Agreement
from skyfence.units import m_to_ft, ms_to_fpm, ms_to_kt

HORIZON = 60.0


@dataclass(frozen=True)
class Recording:
    """Time-sorted state vectors of a recording, in the page's units (ft, kt, ft/min)."""

    t: np.ndarray          # float64 Unix seconds, sorted
    idx: np.ndarray        # int32 aircraft index into ``ids``
    lat: np.ndarray
    lon: np.ndarray
    alt_ft: np.ndarray     # NaN when unknown
    gs_kt: np.ndarray
    track_deg: np.ndarray
    vrate_fpm: np.ndarray
    on_ground: np.ndarray  # bool
    ids: np.ndarray        # track_id per index
    callsign: np.ndarray   # callsign per row (object, None when unknown)
    party: np.ndarray      # party per index
    country: np.ndarray    # country per index (ICAO address block), None when unknown
    horizon: float = HORIZON

    @classmethod
    def load(cls, paths: Sequence[str | Path], agreement: Agreement) -> "Recording":
        """Read ``paths`` as ``analyze`` does (bad input raises one-line errors)."""
        import polars as pl

        from skyfence.agreement.identify import address_country
        from skyfence.analysis.load import load_tracks

        df, _ = load_tracks([str(p) for p in paths], agreement, None, warm=False)
        df = df.sort("time")
        uniq = df.select(pl.col("track_id").unique(maintain_order=True))["track_id"]
        index = {tid: i for i, tid in enumerate(uniq.to_list())}
        idx = np.fromiter((index[x] for x in df["track_id"].to_list()), dtype=np.int32, count=df.height)
        first = df.group_by("track_id", maintain_order=True).agg(pl.col("party").cast(pl.String).last())
        party = dict(zip(first["track_id"].to_list(), first["party"].to_list()))
        countries = address_country(uniq).to_list()

        def col(name: str, convert=None) -> np.ndarray:
            v = df[name].cast(pl.Float64).fill_null(np.nan).to_numpy().astype(np.float64)
            return convert(v) if convert else v

        return cls(
            t=df["time"].dt.epoch("us").to_numpy().astype(np.float64) / 1e6, idx=idx,
            lat=col("lat"), lon=col("lon"), alt_ft=col("altitude", m_to_ft), gs_kt=col("ground_speed", ms_to_kt),
            track_deg=col("track"), vrate_fpm=col("vertical_rate", ms_to_fpm),
            on_ground=df["on_ground"].fill_null(False).to_numpy().astype(bool),
            ids=np.array(uniq.to_list(), dtype=object), callsign=np.array(df["callsign"].to_list(), dtype=object),
            party=np.array([party.get(x) or "unknown" for x in uniq.to_list()], dtype=object),
            country=np.array(countries, dtype=object))

    @property
    def start(self) -> float:
        return float(self.t[0]) if len(self.t) else 0.0

    @property
    def end(self) -> float:
        return float(self.t[-1]) if len(self.t) else 0.0

    def _last_rows(self, at: float) -> np.ndarray:
        """Row numbers of each aircraft's last state within ``horizon`` seconds up to ``at``."""
        lo, hi = np.searchsorted(self.t, [at - self.horizon, at], side="right")
        if hi <= lo:
            return np.empty(0, dtype=np.int64)
        rev = self.idx[lo:hi][::-1]
        _, first = np.unique(rev, return_index=True)
        return hi - 1 - first

    def aircraft(self, at: float) -> list[dict]:
        """The picture at ``at`` (Unix seconds) in the shape of ``Picture.aircraft()``."""
        out = []
        for r in self._last_rows(at):
            i = self.idx[r]
            out.append({"track_id": self.ids[i], "callsign": self.callsign[r], "party": self.party[i],
                        "country": self.country[i], "lat": self.lat[r], "lon": self.lon[r],
                        "alt_ft": _num(self.alt_ft[r]), "gs_kt": _num(self.gs_kt[r]),
                        "track_deg": _num(self.track_deg[r]), "vrate_fpm": _num(self.vrate_fpm[r]),
                        "time": float(self.t[r]), "on_ground": bool(self.on_ground[r])})
        return out

    def tracks(self, since: float, until: float, max_points: int = 200_000) -> dict[str, list[tuple]]:
        """Positions between ``since`` and ``until``: {track_id: [(time, lat, lon, alt_ft), ...]}."""
        lo, hi = np.searchsorted(self.t, since, side="left"), np.searchsorted(self.t, until, side="right")
        step = max(1, (hi - lo) // max_points + 1) if hi > lo else 1
        out: dict[str, list[tuple]] = {}
        for r in range(lo, hi):
            i = self.idx[r]
            pts = out.setdefault(self.ids[i], [])
            if step == 1 or len(pts) % step == 0:
                pts.append((float(self.t[r]), float(self.lat[r]), float(self.lon[r]), _num(self.alt_ft[r])))
        return out


def _num(v: float) -> float | None:
    return None if not np.isfinite(v) else float(v)
