"""What a valid agreement may still not mean: zones that overlap in space, altitude and time for the same
party, where an aircraft inside both counts as a crossing of each."""

from __future__ import annotations

from itertools import combinations

from skyfence.agreement.model import Agreement


def overlapping_zones(agreement: Agreement) -> list[str]:
    """One line per pair of zones closed to a common party that share space, altitudes and time."""
    zones = [a for a in agreement.areas if a.kind == "zone"]
    notes = []
    for a, b in combinations(zones, 2):
        common = sorted(set(a.closed_to) & set(b.closed_to))
        if not common or a.floor >= b.ceiling or b.floor >= a.ceiling:
            continue
        (a_lo, a_hi), (b_lo, b_hi) = a.window_seconds(), b.window_seconds()
        if a_lo >= b_hi or b_lo >= a_hi:
            continue
        shared = a.polygon_xy.intersection(b.polygon_xy).area
        if shared <= 0:
            continue
        size = f"{shared / 1e6:,.0f} km2" if shared >= 1e6 else "under 1 km2"
        notes.append(f"zones {a.id} and {b.id} overlap ({size}, at the same altitudes and times): "
                     f"an aircraft of {', '.join(common)} inside both counts as a crossing of each")
    return notes
