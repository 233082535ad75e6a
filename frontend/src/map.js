// The map: an offline basemap (Natural Earth, served by skyfence) and the agreement drawn by party.
// MapLibre's CSP build: its worker is a file of its own (the page's policy allows no eval).
import maplibregl from "maplibre-gl/dist/maplibre-gl-csp.js";
import { TextLayer, ScatterplotLayer } from "@deck.gl/layers";
import { hexToRgb } from "./format.js";

maplibregl.setWorkerUrl(new URL("/static/maplibre-gl-csp-worker.js", location.origin).href);

const basemap = (layer) => new URL(`/api/basemap/${layer}`, location.origin).href;

function style() {
  return {
    version: 8,
    // no glyphs and no sprite: every label is drawn by deck.gl from the browser's own fonts (no internet)
    sources: {
      world: { type: "geojson", data: basemap("world") },
      borders: { type: "geojson", data: basemap("borders") },
      rivers: { type: "geojson", data: basemap("rivers") },
    },
    layers: [
      { id: "sea", type: "background", paint: { "background-color": "#070b10" } },
      { id: "land", type: "fill", source: "world", filter: ["==", ["get", "layer"], "land"],
        paint: { "fill-color": "#111820" } },
      { id: "world-borders", type: "line", source: "world", filter: ["==", ["get", "layer"], "borders"],
        paint: { "line-color": "#34404e", "line-width": 0.8 } },
      { id: "borders", type: "line", source: "borders",
        filter: ["==", ["get", "layer"], "admin0_boundary_line"],
        paint: { "line-color": "#4a5868", "line-width": 1.1, "line-dasharray": [3, 2] } },
      { id: "rivers", type: "line", source: "rivers",
        paint: { "line-color": "#1d4a6e", "line-width": ["interpolate", ["linear"], ["zoom"], 5, 1, 9, 2.2] } },
    ],
  };
}

export function createMap(container, agreement) {
  const [w, s, e, n] = agreement.bbox;
  const map = new maplibregl.Map({
    container, style: style(), bounds: [[w, s], [e, n]], fitBoundsOptions: { padding: 30 },
    attributionControl: { compact: true, customAttribution: "Natural Earth" }, maxPitch: 0, dragRotate: false,
    fadeDuration: 0,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "nautical" }), "bottom-right");
  nauticalMiles(map.getContainer().querySelector(".maplibregl-ctrl-scale"));
  map.on("load", () => addAgreement(map, agreement));
  return map;
}

/** The scale bar in NM, as charts write it (MapLibre writes "20nm"). */
function nauticalMiles(scale) {
  if (!scale) return;
  const fix = () => {
    const m = /^([\d.]+)\s*nm$/.exec(scale.textContent);
    if (m) scale.textContent = `${m[1]} NM`;
  };
  new MutationObserver(fix).observe(scale, { childList: true, characterData: true, subtree: true });
  fix();
}

function addAgreement(map, agreement) {
  map.addSource("agreement", { type: "geojson", data: agreement });
  const colour = ["coalesce", ["get", "colour"], "#8a97a6"];
  map.addLayer({ id: "sides", type: "fill", source: "agreement", filter: ["==", ["get", "kind"], "side"],
    paint: { "fill-color": colour, "fill-opacity": 0.07 } });
  map.addLayer({ id: "zones", type: "fill", source: "agreement", filter: ["==", ["get", "kind"], "zone"],
    paint: { "fill-color": colour, "fill-opacity": 0.16 } });
  map.addLayer({ id: "zone-edges", type: "line", source: "agreement", filter: ["==", ["get", "kind"], "zone"],
    paint: { "line-color": colour, "line-width": 1.6, "line-dasharray": [4, 2] } });
  map.addLayer({ id: "line-glow", type: "line", source: "agreement", filter: ["==", ["get", "kind"], "line"],
    paint: { "line-color": "#ffc93c", "line-width": 7, "line-opacity": 0.18, "line-blur": 3 } });
  map.addLayer({ id: "line", type: "line", source: "agreement", filter: ["==", ["get", "kind"], "line"],
    paint: { "line-color": "#ffc93c", "line-width": 2.4 } });
}

// Towns and airfields as deck.gl layers (labels need no glyph server), of those in view only: each label's
// every character is vertex work on every frame drawn, on screen or not.
export async function placeLayers(getJson) {
  const [places, airports] = await Promise.all([getJson("places"), getJson("airports")]);
  const pts = (fc) => fc.features.map((f) => ({ p: f.geometry.coordinates, ...f.properties }));
  const P = pts(places), A = pts(airports);
  let key = null, cached = [];
  return (zoom, inBounds) => {
    const bucket = zoom >= 6.5 ? 2 : zoom >= 6 ? 1 : 0;
    const p = P.filter((d) => inBounds(d.p)), a = A.filter((d) => inBounds(d.p));
    const k = `${bucket}|${p.map((d) => d.name).join("|")}|${a.map((d) => d.icao).join("|")}`;
    if (k !== key) { key = k; cached = build(bucket, p, a); }
    return cached;
  };
  function build(bucket, P, A) {
    return [
    new ScatterplotLayer({ id: "places", data: P, getPosition: (d) => d.p, getRadius: 2.2, radiusUnits: "pixels",
      getFillColor: [120, 132, 146, 200] }),
    new TextLayer({ id: "place-names", data: P.filter((d) => bucket === 2 || d.pop_max > 300000),
      getPosition: (d) => d.p, getText: (d) => d.name, getSize: 11, getColor: [128, 140, 155, 220],
      getPixelOffset: [0, 9], fontFamily: "DejaVu Sans, Arial, sans-serif", characterSet: "auto" }),
    new ScatterplotLayer({ id: "airports", data: A, getPosition: (d) => d.p, getRadius: 2.6, radiusUnits: "pixels",
      stroked: true, filled: false, getLineColor: [150, 120, 200, 220], lineWidthMinPixels: 1.2 }),
    new TextLayer({ id: "airport-codes", data: bucket >= 1 ? A : [], getPosition: (d) => d.p, getText: (d) => d.icao,
      getSize: 10, getColor: [160, 135, 210, 230], getPixelOffset: [0, -10], fontFamily: "DejaVu Sans Mono, monospace",
      characterSet: "auto" }),
    ];
  }
}

export const partyRgb = (colours, party, alpha = 255) => hexToRgb(colours[party] || colours.unknown || "#9aa5b1", alpha);
