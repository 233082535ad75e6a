"""Grouping in the manner of Alertmanager: the first message about an incident waits ``group_wait`` to
gather the updates that follow; after a message, updates wait until ``repeat_interval`` has passed and
go as one message with the incident as it then stands. A rise in severity above what the party was
last told goes at once. An encounter that flaps between caution and warning for ten minutes so sends
one message per repeat interval (five with the default 2 min), not one per flap."""

from __future__ import annotations

from skyfence.agreement.model import HotlineSettings


def due(pending_since: float | None, last_sent_at: float | None, sent_rank: int, rank_now: int, now: float,
        settings: HotlineSettings) -> bool:
    """Whether a party's waiting update should go now."""
    if pending_since is None:
        return False
    if last_sent_at is None:
        return now >= pending_since + settings.group_wait
    if rank_now > sent_rank:
        return True
    return now >= last_sent_at + settings.repeat_interval


def wake_at(pending_since: float | None, last_sent_at: float | None, settings: HotlineSettings) -> float | None:
    """When a waiting update becomes due (ignoring a rise in severity)."""
    if pending_since is None:
        return None
    if last_sent_at is None:
        return pending_since + settings.group_wait
    return last_sent_at + settings.repeat_interval
