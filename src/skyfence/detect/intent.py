"""Was a crossing deliberate? A score with its reasons, in words.

Each sign points one way or the other, with a weight:

====================================================  ======
sign                                                  weight
====================================================  ======
went deep (5 km or more; 15 km or more)               +1; +2
stayed shallow (under 3 km)                           -1
stayed long (5 min or more)                           +1
was brief (under 2 min)                               -1
crossed nearly square to the line (45 degrees or more)  +1
crossed at a shallow angle (25 degrees or less)       -1
kept close to the line (80 % of the time within 5 km)  -1
turned toward an aircraft of another party            +2
manoeuvred hard (hard turn, weave) while across       +1
crossed before in the same data (same aircraft)       +1
====================================================  ======

A total of +2 or more reads ``likely deliberate``, -1 or less ``likely
inadvertent``, anything between ``unclear``. The reasons name what was seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LIKELY_DELIBERATE, LIKELY_INADVERTENT, UNCLEAR = "likely deliberate", "likely inadvertent", "unclear"


@dataclass(frozen=True)
class CrossingSigns:
    """What was seen of one crossing."""

    depth_km: float
    duration_s: float
    entry_angle: float  # degrees between the track and the line's general direction at entry (90 = square)
    near_line_fraction: float  # of the states beyond the line, the fraction within 5 km of it
    turned_toward: str | None  # the other party's aircraft it turned toward (callsign or id)
    manoeuvres: tuple[str, ...]
    earlier_crossings: int


def assess(s: CrossingSigns) -> tuple[str, int, str]:
    """The class, the score and the reasons."""
    score, why = 0, []
    if s.depth_km >= 15:
        score, why = score + 2, why + [f"went {s.depth_km:.0f} km beyond the line"]
    elif s.depth_km >= 5:
        score, why = score + 1, why + [f"went {s.depth_km:.0f} km beyond the line"]
    elif s.depth_km < 3:
        score, why = score - 1, why + [f"stayed within {s.depth_km:.1f} km of the line"]
    if s.duration_s >= 300:
        score, why = score + 1, why + [f"stayed {s.duration_s / 60:.0f} min"]
    elif s.duration_s < 120:
        score, why = score - 1, why + [f"was back within {s.duration_s:.0f} s"]
    if np.isfinite(s.entry_angle):
        if s.entry_angle >= 45:
            score, why = score + 1, why + [f"crossed nearly square to the line ({s.entry_angle:.0f} deg)"]
        elif s.entry_angle <= 25:
            score, why = score - 1, why + [f"crossed at a shallow angle ({s.entry_angle:.0f} deg), along the river"]
    if s.near_line_fraction >= 0.8:
        score, why = score - 1, why + ["kept close to the river: a navigation error is plausible"]
    if s.turned_toward:
        score, why = score + 2, why + [f"turned toward {s.turned_toward}"]
    if s.manoeuvres:
        score, why = score + 1, why + [f"manoeuvred hard ({', '.join(sorted(set(s.manoeuvres)))})"]
    if s.earlier_crossings:
        score, why = score + 1, why + [f"had crossed {s.earlier_crossings} time(s) before"]
    label = LIKELY_DELIBERATE if score >= 2 else LIKELY_INADVERTENT if score <= -1 else UNCLEAR
    return label, score, "; ".join(why)
