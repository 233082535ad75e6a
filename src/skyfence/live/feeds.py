"""Where a live feed comes from: ``KIND://HOST:PORT`` parsed into a :class:`FeedSpec`.

* ``sbs://`` SBS-1 / BaseStation text (port 30003)
* ``beast://`` Beast binary (port 30005)
* ``raw://`` raw frames (port 30002): AVR ``*HEX;`` lines (timed on arrival),
  ``@`` + 12 hex digits of 12 MHz clock + frame, or ``TIMESTAMP,HEX`` lines
* ``cot+tcp://`` Cursor on Target over TCP (a TAK server's streaming port)
* ``cot+udp://`` Cursor on Target datagrams, listened for on HOST:PORT
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from skyfence.errors import InputError

KINDS = {"sbs": 30003, "beast": 30005, "raw": 30002, "cot+tcp": 8087, "cot+udp": 6969}
_URL = re.compile(r"^(?P<kind>[a-z+]+)://(?P<host>\[[^\]]+\]|[^:/]+)(?::(?P<port>\d+))?/?$")


@dataclass(frozen=True)
class FeedSpec:
    kind: str
    host: str
    port: int

    @property
    def udp(self) -> bool:
        return self.kind == "cot+udp"

    def __str__(self) -> str:
        return f"{self.kind}://{self.host}:{self.port}"


def is_feed(text: str) -> bool:
    return "://" in text


def parse_feed(text: str) -> FeedSpec:
    """``KIND://HOST[:PORT]`` (the port defaults to the feed's usual one), or one clear error."""
    m = _URL.match(text.strip())
    if not m:
        raise InputError(f"{text}: not a feed address (expected KIND://HOST:PORT, KIND one of {', '.join(KINDS)}; "
                         "or an http(s):// URL of a polled endpoint)")
    kind = m["kind"]
    if kind not in KINDS:
        raise InputError(f"{text}: unknown feed kind {kind!r} (expected one of {', '.join(KINDS)}, or http(s) for a "
                         "polled endpoint)")
    port = int(m["port"]) if m["port"] else KINDS[kind]
    if not 0 < port < 65536:
        raise InputError(f"{text}: port out of range")
    return FeedSpec(kind, m["host"].strip("[]"), port)
