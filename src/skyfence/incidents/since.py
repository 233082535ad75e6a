"""``since`` as the incident filters take it: a UTC time, a day, or a duration back from now."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from skyfence.errors import SkyfenceError


def since_time(text: str | None, now: datetime | None = None, name: str = "--since") -> datetime | None:
    """A UTC time (2017-11-01T09:00Z; naive is UTC), a day (2017-11-01), or a duration back from ``now`` (2h,
    30 min); one clear error (naming ``name``) for anything else."""
    if text is None:
        return None
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        from skyfence.units import UnitError, parse_duration

        try:
            back = parse_duration(text)
        except (UnitError, ValueError):
            raise SkyfenceError(f"{name} {text!r}: give a UTC time such as 2017-11-01T09:00Z, a day 2017-11-01, "
                                "or a time back from now such as 2h or 30 min") from None
        if back < 0:
            raise SkyfenceError(f"{name} {text!r}: a time back from now is positive (2h, 30 min)")
        return (now or datetime.now(timezone.utc)) - timedelta(seconds=back)
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)
