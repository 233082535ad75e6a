"""Rebuild src/skyfence/agreements/euphrates-2017.geojson from ../shared/data.

The line is Natural Earth's Euphrates from the Tabqa dam to just past Al-Bukamal
(feature euphrates_raqqa_abukamal); the region is Syria (Natural Earth admin-0)
east of 38.5 E and north of 34.0 N: the Euphrates valley and the country on
both banks, where coalition and Russian/Syrian aircraft shared the sky in 2017.
"""

import json
import sys
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
out = Path(__file__).resolve().parents[1] / "src/skyfence/agreements/euphrates-2017.geojson"

rivers = json.loads((data / "euphrates.geojson").read_text())
line = next(shape(f["geometry"]) for f in rivers["features"] if f["properties"]["id"] == "euphrates_raqqa_abukamal")
borders = json.loads((data / "region_borders.geojson").read_text())
syria = next(shape(f["geometry"]) for f in borders["features"]
             if f["properties"].get("layer") == "admin0_polygon" and f["properties"].get("name") == "Syria")
region = shapely.intersection(syria, shapely.box(38.5, 34.0, 42.5, 37.6))
region = shapely.set_precision(region, 1e-6)
doc = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {"id": "line", "name": "Euphrates, Tabqa dam to Al-Bukamal",
                                           "source": "Natural Earth 1:10m rivers v4.0.0 (public domain)"},
         "geometry": mapping(shapely.set_precision(line, 1e-6))},
        {"type": "Feature", "properties": {"id": "region", "name": "Eastern Syria, east of 38.5 E, north of 34.0 N",
                                           "source": "Natural Earth 1:10m admin-0 v4.1.0 (public domain)"},
         "geometry": mapping(region)},
    ],
}
out.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
print(out, region.geom_type, len(shapely.get_coordinates(region)), "region vertices")
