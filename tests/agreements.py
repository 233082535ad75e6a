"""Small agreements for tests, written as YAML the way users write them."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

# A straight north-south line along 40 E across a box: blue keeps west, red east.
SIMPLE = {
    "name": "test-line",
    "parties": [
        {"id": "blue", "name": "Blue", "identify": {"countries": ["United States"]}},
        {"id": "red", "name": "Red", "identify": {"countries": ["Syria", "Russia"]}},
    ],
    "line": {"geojson": {"type": "LineString", "coordinates": [[40.0, 34.0], [40.0, 37.0]]}},
    "region": {"bbox": [39.0, 34.5, 41.0, 36.5]},
    "sides": [{"party": "blue", "toward": "west"}, {"party": "red", "toward": "east"}],
    "thresholds": {"crossing": {"min_depth": "1 km", "min_duration": "20 s", "warning_lookahead": "180 s"}},
}


def simple(**changes) -> dict:
    doc = copy.deepcopy(SIMPLE)
    for key, value in changes.items():
        doc[key] = value
    return doc


def write(tmp_path: Path, doc: dict, name: str = "agreement.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path
