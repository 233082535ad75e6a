"""Routing: which parties hear of an incident, and which of a party's contacts.

Every party of the agreement hears of every incident: a party whose aircraft is involved is told
about "your aircraft" and must acknowledge; the others (the counterparts) are told for their picture.
A party's contacts are tried in order; the first that wants the incident's kind and severity is told.
With no contacts in the agreement, the ``--alert`` channels stand in as a duty contact of each party.
"""

from __future__ import annotations

from skyfence.agreement.model import Agreement, Contact
from skyfence.hotline.severity import SEVERITIES

DUTY = Contact(name="duty (--alert)", acknowledge_within=300.0, resend=1)


def contacts_of(agreement: Agreement, party: str, extra_channels: tuple[str, ...]) -> tuple[Contact, ...]:
    p = agreement.party(party)
    if p is not None and p.contacts:
        return p.contacts
    return (DUTY,) if extra_channels else ()


def recipients(agreement: Agreement, incident) -> list[tuple[str, bool]]:
    """(party, involved) for every party of the agreement, the involved ones first."""
    involved = set(incident.parties)
    return sorted(((p, p in involved) for p in agreement.party_ids), key=lambda x: not x[1])


def first_contact(contacts: tuple[Contact, ...], kind: str, severity: str, after: int = -1) -> int | None:
    """The index of the first contact after ``after`` that wants this kind and severity (None: nobody)."""
    for i in range(after + 1, len(contacts)):
        if contacts[i].wants(kind, severity, SEVERITIES):
            return i
    return None


def channels_of(contact: Contact, extra_channels: tuple[str, ...]) -> tuple[str, ...]:
    """The contact's own channels, then the command line's, each once."""
    return tuple(dict.fromkeys((*contact.channels, *extra_channels)))
