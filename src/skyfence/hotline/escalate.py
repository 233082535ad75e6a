"""Escalation: a party whose aircraft is involved must acknowledge within its contact's time. Not in
time: the message is re-sent to the same contact (``resend`` times), then the incident is escalated to
the party's next contact that wants it, and so on; when no contact is left, the audit trail says so."""

from __future__ import annotations

from dataclasses import dataclass

from skyfence.agreement.model import Contact
from skyfence.hotline.route import first_contact


@dataclass(frozen=True)
class Step:
    action: str  # "resend", "escalate" or "exhausted"
    contact_index: int | None


def next_step(contacts: tuple[Contact, ...], index: int, resends: int, kind: str, severity: str) -> Step:
    """What to do when the time to acknowledge has run out at contact ``index`` after ``resends`` re-sends."""
    if resends < contacts[index].resend:
        return Step("resend", index)
    nxt = first_contact(contacts, kind, severity, after=index)
    if nxt is None and index + 1 < len(contacts):
        nxt = index + 1  # the next contact hears of it even below the severity it asked for: nobody answered
    return Step("escalate", nxt) if nxt is not None else Step("exhausted", None)
