"""One-time acknowledgement tokens carried in messages: ``<id>.<signature>``, the signature an HMAC of
the id, incident and party under the hotline's key (``SKYFENCE_ACK_SECRET``, or a random key kept in
the store's database). The web API can verify them with the same :func:`redeem`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time

import sqlalchemy as sa

from skyfence.incidents.database import writing

from skyfence.errors import SkyfenceError
from skyfence.hotline.tables import state, tokens

ENV = "SKYFENCE_ACK_SECRET"


class TokenError(SkyfenceError):
    """A token that is unknown, forged or already used."""


def ack_key(conn: sa.Connection) -> bytes:
    """The key tokens are signed with: from the environment, else made once and kept in the database."""
    if os.environ.get(ENV):
        return os.environ[ENV].encode()
    value = conn.execute(sa.select(state.c.value).where(state.c.name == "ack_key")).scalar()
    if value is None:
        value = secrets.token_hex(32)
        conn.execute(state.insert().values(name="ack_key", value=value))
    return value.encode()


def _sig(key: bytes, token_id: str, incident_id: str, party: str) -> str:
    mac = hmac.new(key, f"{token_id}|{incident_id}|{party}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def _refuse_after_a_rise(conn: sa.Connection, row) -> None:
    """The token's message told of a lower severity than the incident has now: refused."""
    from skyfence.hotline.tables import outbox
    from skyfence.incidents.severity import rank
    from skyfence.incidents.tables import incidents

    body = conn.execute(sa.select(outbox.c.body).where(outbox.c.id == row.message_id).limit(1)).scalar()
    now = conn.execute(sa.select(incidents.c.severity).where(incidents.c.id == row.incident_id)).scalar()
    told = json.loads(body).get("severity") if body else None
    if told and now and rank(now) > rank(told):
        raise TokenError(f"this link came with the {told.replace('_', ' ')} message, and the incident has since "
                         f"risen to {now.replace('_', ' ')}: acknowledge with the link in the latest message")


def issue(conn: sa.Connection, incident_id: str, party: str, message_id: str) -> str:
    """A new token for one party to acknowledge one incident (recorded inside ``conn``'s transaction)."""
    token_id = secrets.token_hex(8)
    conn.execute(tokens.insert().values(id=token_id, incident_id=incident_id, party=party, message_id=message_id))
    return f"{token_id}.{_sig(ack_key(conn), token_id, incident_id, party)}"


def peek(engine: sa.Engine, token: str) -> tuple[str, str, bool] | None:
    """What a token is for, without using it: (incident_id, party, used), or None when unknown or forged."""
    token_id, _, sig = (token or "").partition(".")
    with engine.connect() as conn:
        row = conn.execute(sa.select(tokens).where(tokens.c.id == token_id)).first()
        if row is None or not hmac.compare_digest(sig, _sig(ack_key(conn), token_id, row.incident_id, row.party)):
            return None
    return row.incident_id, row.party, row.used_at is not None


def redeem(engine: sa.Engine, token: str, by: str) -> tuple[str, str]:
    """Check a token and mark it used; returns (incident_id, party). Raises :class:`TokenError`, also when the
    incident has risen above the severity of the message that carried the token: a rise asks for a new
    acknowledgement, which an old link must not give."""
    token_id, _, sig = (token or "").partition(".")
    with writing(engine) as conn:
        row = conn.execute(sa.select(tokens).where(tokens.c.id == token_id)).first()
        if row is None or not hmac.compare_digest(sig, _sig(ack_key(conn), token_id, row.incident_id, row.party)):
            raise TokenError("unknown or forged acknowledgement token")
        _refuse_after_a_rise(conn, row)
        used = conn.execute(tokens.update().where(tokens.c.id == token_id, tokens.c.used_at.is_(None))
                            .values(used_at=time.time(), used_by=by[:128])).rowcount
        if not used:
            raise TokenError(f"this acknowledgement token was already used (by {row.used_by})")
    return row.incident_id, row.party
