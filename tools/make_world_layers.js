// Rebuilds src/skyfence/data/world_50m.geojson, the world-wide base layers of report maps:
// land (MultiPolygon) and land borders between countries (MultiLineString), Natural Earth 1:50m
// (public domain) from npm world-atlas@2.0.2 (ISC), converted with topojson-client@3.1.0 (ISC).
//
//   npm install world-atlas@2.0.2 topojson-client@3.1.0
//   node tools/make_world_layers.js node_modules/world-atlas src/skyfence/data/world_50m.geojson
const fs = require("fs");
const path = require("path");
const topojson = require(path.resolve("node_modules/topojson-client"));

const [dir, out] = process.argv.slice(2);
const read = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
const round = (c) => (typeof c[0] === "number" ? [+c[0].toFixed(3), +c[1].toFixed(3)] : c.map(round));

const land = read("land-50m.json");
const countries = read("countries-50m.json");
const landGeom = topojson.merge(land, land.objects.land.geometries);
const borders = topojson.mesh(countries, countries.objects.countries, (a, b) => a !== b);
const feature = (layer, geometry) => ({
  type: "Feature",
  properties: { layer, source: "Natural Earth 1:50m via world-atlas@2.0.2" },
  geometry: { type: geometry.type, coordinates: round(geometry.coordinates) },
});
fs.writeFileSync(out, JSON.stringify({
  type: "FeatureCollection",
  features: [feature("land", landGeom), feature("borders", borders)],
}));
