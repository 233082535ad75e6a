"""Channel addresses as a user writes them (agreement contacts, ``--alert``), checked without connecting.

``http://host:port/path`` and ``https://...`` (signed webhook), ``mqtt://host:port/topic-prefix``,
``cot+tcp://host:port`` and ``cot+udp://host:port`` (Cursor on Target), ``log:path`` (a JSON-lines
file) and ``console`` (the live table). Secrets never go in the address: a webhook's signing secret
is read from the environment (``SKYFENCE_WEBHOOK_SECRET``, or the variable a contact names).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

SCHEMES = ("http", "https", "mqtt", "cot+tcp", "cot+udp", "log", "console")
DEFAULT_PORTS = {"http": 80, "https": 443, "mqtt": 1883, "cot+tcp": 8087, "cot+udp": 6969}


class ChannelURLError(ValueError):
    """A channel address that cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class ChannelURL:
    """A parsed channel address. ``text`` is what the outbox records and what is shown: never a secret."""

    text: str
    scheme: str
    host: str = ""
    port: int = 0
    path: str = ""

    @property
    def kind(self) -> str:
        """webhook, mqtt, cot, log or console."""
        return {"http": "webhook", "https": "webhook", "cot+tcp": "cot", "cot+udp": "cot"}.get(self.scheme, self.scheme)


def parse_channel(text: str) -> ChannelURL:
    """Check a channel address and split it; raises :class:`ChannelURLError` naming the problem."""
    text = (text or "").strip()
    if text == "console":
        return ChannelURL("console", "console")
    if text.startswith("log:"):
        path = text[4:].removeprefix("//")
        if not path:
            raise ChannelURLError(f"{text!r}: give a file after log:, e.g. log:hotline.jsonl")
        return ChannelURL(f"log:{path}", "log", path=path)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ChannelURLError(f"{text!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ChannelURLError(f"{text!r}: unknown channel (use one of http://, https://, mqtt://, cot+tcp://, "
                              "cot+udp://, log:FILE, console)")
    if parts.username or parts.password:
        raise ChannelURLError(f"{text!r}: no user or password in a channel address; secrets come from the "
                              "environment (SKYFENCE_WEBHOOK_SECRET)")
    if not parts.hostname:
        raise ChannelURLError(f"{text!r}: no host")
    if parts.query and scheme not in ("http", "https"):
        raise ChannelURLError(f"{text!r}: a {scheme} address takes no query")
    if parts.fragment and scheme != "mqtt":
        raise ChannelURLError(f"{text!r}: a channel address takes no #fragment")
    port = port or DEFAULT_PORTS[scheme]
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if scheme == "mqtt":
        path = path.strip("/") or "skyfence"
        if any(c in path for c in "+#") or "#" in text:
            raise ChannelURLError(f"{text!r}: the topic prefix may not contain MQTT wildcards (+, #)")
    elif scheme.startswith("cot") and path.strip("/"):
        raise ChannelURLError(f"{text!r}: a Cursor on Target address is host:port only")
    host = parts.hostname
    shown_host = f"[{host}]" if ":" in host else host
    if scheme == "mqtt":
        shown = f"mqtt://{shown_host}:{port}/{path}"
    elif scheme.startswith("cot"):
        shown, path = f"{scheme}://{shown_host}:{port}", ""
    else:
        shown = f"{scheme}://{shown_host}:{port}{path or '/'}"
        path = path or "/"
    return ChannelURL(shown, scheme, host, port, path)
