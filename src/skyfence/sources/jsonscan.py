"""Salvaging a damaged JSON document: the records of its one array that are still whole.

A receiver snapshot (``aircraft`` or ``ac``), a readsb ``trace`` or an OpenSky
answer (``states``) is a header and one array of records. When the document
does not parse (a cut file, a flipped byte), the array is read element by
element: an element that does not decode is counted and skipped to the next
element start, and the header values (``now``, ``time``, ``timestamp``,
``icao``) are taken from outside the array when they are intact.

>>> from collections import Counter
>>> bad = Counter()
>>> salvage('{"now": 5, "aircraft": [{"hex": "a"}, {"hex": "b" "lat"}, {"hex": "c"}]}', bad)
{'now': 5, 'aircraft': [{'hex': 'a'}, {'hex': 'c'}]}
>>> bad
Counter({'damaged JSON record': 1})
"""

from __future__ import annotations

import json
import re
from collections import Counter

ARRAY = re.compile(r'"(aircraft|ac|trace|states)"\s*:\s*\[')
HEADER = ("now", "time", "timestamp", "icao")
DAMAGED = "damaged JSON record"
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[\s,]*")
_WS = re.compile(r"\s*")


def salvage(text: str, bad: Counter) -> dict | None:
    """The header and whole records of a damaged document, or None if it holds no known array."""
    m = ARRAY.search(text)
    if m is None:
        return None
    items, lost, end = scan_array(text, m.end())
    if lost:
        bad[DAMAGED] += lost
    doc: dict = {}
    outside = text[:m.start()] + " " + text[end:]
    for key in HEADER:
        k = re.search(rf'"{key}"\s*:\s*("(?:[^"\\\n]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)', outside)
        if k:
            try:
                doc[key] = json.loads(k.group(1))
            except ValueError:  # damaged too ("01", a broken escape): the header value is lost
                pass
    doc[m.group(1)] = items
    return doc


def scan_array(text: str, pos: int) -> tuple[list, int, int]:
    """The elements of the array whose first element starts at ``pos``: (whole elements, damaged ones,
    position after the array or the end of the text)."""
    items: list = []
    lost, n = 0, len(text)
    opener = None
    i = _SPACE.match(text, pos).end()
    while i < n:
        if text[i] == "]":
            more = None if opener is None else re.compile(r"[\]\s]*,\s*" + re.escape(opener)).match(text, i)
            if more is None:
                return items, lost, i + 1
            lost += 1  # a stray ']' with more elements after it: damage, not the end
            i = more.end() - 1
            continue
        if opener is None and text[i] in "{[":
            opener = text[i]
        try:
            obj, j = _DECODER.raw_decode(text, i)
            k = _WS.match(text, j).end()
            if k < n and text[k] not in ",]" + (opener or ""):
                raise ValueError("damage right after the element")
        except (ValueError, RecursionError):
            lost += 1
            i = _next_element(text, i + 1, opener)
            continue
        items.append(obj)
        i = _SPACE.match(text, j).end()
    return items, lost, n


def _next_element(text: str, start: int, opener: str | None) -> int:
    """Where the next element of the array may start after damage (after a comma), or the end of the text."""
    pattern = re.compile(r"[,\n]\s*" + re.escape(opener or "{"))
    m = pattern.search(text, start)
    return m.end() - 1 if m else len(text)
