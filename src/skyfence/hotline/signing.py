"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` with a ``whsec_`` secret.

Secrets are ``whsec_`` followed by base64 of the key bytes (the scheme's format). :func:`verify` is what
a receiver runs (and what the README shows in a few lines).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _secrets
import time

from skyfence.errors import SkyfenceError

PREFIX = "whsec_"
TOLERANCE_S = 300


class SecretError(SkyfenceError):
    """A webhook secret that is missing or not in the ``whsec_<base64>`` form (the secret is never shown)."""


def new_secret() -> str:
    """A fresh secret: 24 random bytes."""
    return PREFIX + base64.b64encode(_secrets.token_bytes(24)).decode()


def secret_key(secret: str | None, where: str = "SKYFENCE_WEBHOOK_SECRET") -> bytes:
    """The key bytes of a ``whsec_`` secret; raises :class:`SecretError` naming where it came from, not it."""
    if not secret:
        raise SecretError(f"a webhook needs a signing secret: set {where} (whsec_ followed by base64, e.g. from "
                          "'skyfence hotline secret')")
    if not secret.startswith(PREFIX):
        raise SecretError(f"the webhook secret in {where} does not start with whsec_")
    try:
        key = base64.b64decode(secret[len(PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise SecretError(f"the webhook secret in {where} is not base64 after whsec_") from None
    if len(key) < 16:
        raise SecretError(f"the webhook secret in {where} is shorter than 16 bytes")
    return key


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value."""
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(key: bytes, msg_id: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (the timestamp is the attempt's)."""
    ts = int(time.time() if now is None else now)
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sign(key, msg_id, ts, body)}


def verify(secret: str, got_headers, body: bytes, now: float | None = None, tolerance: float = TOLERANCE_S) -> bool:
    """Whether a request carries a valid signature by ``secret`` made within ``tolerance`` seconds of now."""
    key = secret_key(secret)
    msg_id, ts = got_headers.get("webhook-id"), got_headers.get("webhook-timestamp")
    sigs = got_headers.get("webhook-signature", "")
    if not msg_id or not ts or not ts.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(ts)) > tolerance:
        return False
    expected = sign(key, msg_id, int(ts), body)
    return any(hmac.compare_digest(expected, s) for s in sigs.split())
