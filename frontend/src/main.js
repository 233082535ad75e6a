// skyfence page: the map, the live (or replayed) air picture, incidents, replay controls.
import "./style.css";
import { MapboxOverlay } from "@deck.gl/mapbox";
import { IconLayer, PathLayer, ScatterplotLayer, TextLayer } from "@deck.gl/layers";
import { api, ApiError, setToken, takeTokenFromUrl, token } from "./api.js";
import { createMap, partyRgb, placeLayers } from "./map.js";
import { Fleet } from "./fleet.js";
import { IncidentPanel } from "./incidents.js";
import { HotlineBadge } from "./hotline.js";
import { Live } from "./live.js";
import { Replay } from "./replay.js";
import { el, hexToRgb, hms, iso, num, sevColour, epochOf } from "./format.js";
import { planeAtlas } from "./icon.js";

const stats = { frames: 0, draws: 0, drawMs: 0, pictures: 0, started: performance.now() };
const dirty = { any: false };
const TRAILS_FOR_ALL = 1000; // read by the tests and the benchmark
const MAX_LABELS = 600; // callsigns drawn when at most this many aircraft are in view
window.skyfence = { stats };

let user = null;
let colours = {};
const fleet = new Fleet();
const atlas = planeAtlas();
let selectedAircraft = null;
let incidentTracks = null; // {incident, paths}
let places = () => []; // (zoom, inBounds) -> the towns' and airfields' layers

let connected = false;
let feedEnded = null; // the picture's last time, once the monitor's recorded data has ended

/** The badge by the title: live, replay, offline, or the data ended (a recording served on after its end). */
function connState(health) {
  const c = document.getElementById("conn");
  if (connected && feedEnded) {
    c.className = "conn ended";
    c.textContent = `data ended ${hms(feedEnded)}`;
    c.title = "the recorded data the monitor read has ended: nothing moves any more";
    return;
  }
  c.className = `conn ${connected ? "on" : "off"}`;
  c.textContent = connected ? (health.mode === "replay" ? "replay" : "live") : "offline";
}

/** Live mode: ask the server every few seconds whether the monitor's data has ended. */
function watchFeed(health) {
  const poll = async () => {
    try {
      const h = await api("/api/health");
      if (h.feed_ended && !feedEnded) { feedEnded = epochOf(h.picture_time); connState(health); return; }
    } catch (e) { /* the badge says offline through the websocket */ }
    setTimeout(poll, 5000);
  };
  setTimeout(poll, 5000);
}

async function main() {
  takeTokenFromUrl();
  document.getElementById("login-form").addEventListener("submit", signIn);
  try {
    user = await api("/api/me"); // without a token: a server run with --public answers as anonymous
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return askToken(token() ? "that token is not valid" : undefined);
    throw e;
  }
  showUser();
  const [agreement, health] = await Promise.all([api("/api/agreement"), api("/api/health")]);
  colours = Object.fromEntries(agreement.parties.map((p) => [p.id, p.colour]));
  colours.unknown = agreement.unknown_colour;
  document.getElementById("agreement-title").textContent = agreement.title;
  legend(agreement);

  const map = createMap("map", agreement);
  // deck.gl draws in a canvas of its own over the map: aircraft moving redraw only that canvas, the map is
  // redrawn only when the view changes (measured in chromium's software renderer: zoomed in, 58 frames a
  // second against 26-30 when deck.gl drew into the map's own context). ?overlay=interleaved: the other way.
  const interleaved = new URLSearchParams(location.search).get("overlay") === "interleaved";
  const overlay = new MapboxOverlay({ interleaved, layers: [], onClick: pick,
    getCursor: ({ isHovering }) => (isHovering ? "pointer" : "grab") });
  map.addControl(overlay);
  window.skyfence.map = map;
  window.skyfence.overlay = overlay;
  window.skyfence.fleet = fleet;
  placeLayers((layer) => api(`/api/basemap/${layer}`)).then((f) => { places = f; dirty.any = true; });

  const panel = new IncidentPanel({ user: () => user, parties: agreement.parties,
    onSelect: (inc) => showIncident(map, inc), onAircraft: (id) => selectAircraft(fleet.keyOf(id)) });
  window.skyfence.panel = panel;
  if (health.mode === "replay") document.getElementById("f-status").value = ""; // a past day: every incident
  await panel.load();
  const hotline = new HotlineBadge((id) => agreement.parties.find((p) => p.id === id)?.name || id,
    () => panel.refreshHotline());
  window.skyfence.hotline = hotline;
  hotline.start();

  const live = new Live({
    onPicture: (frame) => {
      // a new start or a jump of the replay's clock: the trails are fetched anew for the moment shown
      const jumped = fleet.time == null || frame.reset || Math.abs(frame.time - fleet.time) > 30 * Math.max(1, fleet.rate);
      fleet.apply(frame, jumped);
      stats.pictures++;
      window.skyfence.lastFrame = { time: frame.time, n: fleet.list.length };
      if (jumped) seedTrails(health.mode === "replay" ? frame.time : null);
    },
    onIncident: (change) => { panel.changed(change); hotline.soon(); },
    onResync: () => panel.load(),
    onState: (on) => { connected = on; connState(health); },
  });
  if (health.mode === "live") watchFeed(health);
  window.skyfence.live = live;
  if (health.mode === "replay") {
    const replay = new Replay(health.replay, live, panel, () => fleet.now());
    window.skyfence.replay = replay;
  }
  live.connect();

  // Draw only what changed: a new frame, the aircraft moved half a pixel or more since the last draw
  // (at regional zooms a jet moves a fraction of a pixel a second), a selection, or the incident pulse.
  let lastVersion = -1, trails = null, drawnAt = null, drawnWall = 0, lastSecond = -1;
  const clock = document.getElementById("clock");
  const frame = () => {
    stats.frames++;
    const now = fleet.now();
    const sec = now == null ? -1 : Math.floor(now);
    if (sec !== lastSecond) { lastSecond = sec; clock.textContent = hms(now); }
    const fresh = fleet.version !== lastVersion;
    const mpp = (78271.517 * Math.cos((map.getCenter().lat * Math.PI) / 180)) / 2 ** map.getZoom();
    const moved = now != null && drawnAt != null ? (Math.abs(now - drawnAt) * fleet.maxSpeed) / mpp : Infinity;
    const pulse = panel.active().length > 0 && performance.now() - drawnWall > 66;
    if (fresh || moved >= 0.5 || pulse || dirty.any) {
      const relabel = fresh || dirty.any;
      dirty.any = false;
      const t0 = performance.now();
      const n = fleet.positions(now, partyColour);
      if (fresh) {
        lastVersion = fleet.version;
        // every aircraft's trail up to TRAILS_FOR_ALL aircraft; beyond, the selected one's (as tar1090 does)
        const keys = n <= TRAILS_FOR_ALL ? fleet.list : fleet.list.filter((k) => k === selectedAircraft);
        trails = keys.map((k) => ({ path: fleet.state.get(k).trail, c: partyRgb(colours, fleet.meta.get(k)?.party, 150) }));
        document.getElementById("counts").textContent = `${n} aircraft`;
        panel.setMoment(health.mode === "replay" ? now : null);
      }
      let ls = layers(map.getZoom(), n, now, trails, panel, relabel);
      if (window.skyfence.only) ls = ls.filter((l) => window.skyfence.only.includes(l.id));
      overlay.setProps({ layers: ls });
      stats.draws++;
      stats.drawMs += performance.now() - t0;
      drawnAt = now;
      drawnWall = performance.now();
      if (selectedAircraft != null) updateCard();
    }
    requestAnimationFrame(frame);
  };
  map.on("zoom", () => (dirty.any = true));
  map.on("move", () => (dirty.any = true)); // the aircraft (and callsigns) now in view
  requestAnimationFrame(frame);
}

// Trails of the last five minutes (of the picture's time; in a replay, before the moment shown).
function seedTrails(at) {
  const query = at == null ? {} : { since: iso(at - 300), until: iso(at) };
  api("/api/tracks", { query }).then((t) => { fleet.seedTrails(t); dirty.any = true; }).catch(() => {});
}

const rgbCache = new Map();
function partyColour(party) {
  let c = rgbCache.get(party);
  if (!c) rgbCache.set(party, (c = partyRgb(colours, party)));
  return c;
}

// The aircraft drawn are those in view (with a margin): deck.gl's vertex work grows with every aircraft
// given to it, on screen or not, and in a software renderer that is most of a frame. The set and its
// colours and angles change with a new frame, a zoom or a pan; between those only positions move
// (updateTriggers), copied from the fleet's arrays.
const shown = { idx: new Uint32Array(0), pos: new Float32Array(0), angle: new Float32Array(0),
  colour: new Uint8Array(0), data: null, labelled: [] };
window.skyfence.shown = shown;
window.skyfence.selectAircraft = (key) => selectAircraft(key);

function chooseShown(n) {
  const idx = inView(n);
  const k = idx.length;
  shown.idx = Uint32Array.from(idx);
  shown.pos = new Float32Array(2 * k);
  shown.angle = new Float32Array(k);
  shown.colour = new Uint8Array(4 * k);
  for (let j = 0; j < k; j++) {
    const i = idx[j];
    shown.angle[j] = fleet.angle[i];
    shown.colour.set(fleet.colour.subarray(4 * i, 4 * i + 4), 4 * j);
  }
  shown.data = { length: k, attributes: { getPosition: { value: shown.pos, size: 2 },
    getAngle: { value: shown.angle, size: 1 }, getColor: { value: shown.colour, size: 4, normalized: true } } };
  shown.labelled = k <= MAX_LABELS ? idx : []; // callsigns only when few enough to read: zoom in
}

function layers(zoom, n, now, trails, panel, relabel) {
  if (relabel || shown.data === null) {
    chooseShown(n);
    const [w, s, e, nn] = viewBox();
    placesShown = places(zoom, (p) => p[0] >= w && p[0] <= e && p[1] >= s && p[1] <= nn);
  }
  for (let j = 0; j < shown.idx.length; j++) {
    const i = shown.idx[j];
    shown.pos[2 * j] = fleet.pos[2 * i];
    shown.pos[2 * j + 1] = fleet.pos[2 * i + 1];
  }
  const data = shown.data, labelled = shown.labelled;
  const out = [...placesShown];
  out.push(new PathLayer({ id: "trails", data: trails, getPath: (d) => d.path, getColor: (d) => d.c,
    widthMinPixels: 1.6, widthUnits: "pixels", getWidth: 1.6 }));
  if (incidentTracks) {
    out.push(new PathLayer({ id: "incident-tracks", data: incidentTracks.paths, getPath: (d) => d.path,
      getColor: (d) => d.c, getWidth: 2.5, widthUnits: "pixels" }));
  }
  const active = panel.active();
  const pulse = 10 + 6 * Math.sin(performance.now() / 250);
  out.push(new ScatterplotLayer({ id: "incident-now", data: active, getPosition: (d) => [d.lon, d.lat],
    getRadius: pulse, radiusUnits: "pixels", stroked: true, filled: false, lineWidthMinPixels: 2,
    getLineColor: (d) => hexToRgb(sevColour(d.severity)), updateTriggers: { getRadius: pulse } }));
  if (incidentTracks) {
    const i = incidentTracks.incident;
    out.push(new ScatterplotLayer({ id: "incident-mark", data: [i], getPosition: (d) => [d.lon, d.lat], getRadius: 7,
      radiusUnits: "pixels", stroked: true, filled: false, lineWidthMinPixels: 2.5, getLineColor: [255, 255, 255, 230] }));
  }
  out.push(new IconLayer({ id: "aircraft", data, iconAtlas: atlas.url, iconMapping: atlas.mapping,
    getIcon: () => "plane", sizeUnits: "pixels", getSize: 22, pickable: true, billboard: true,
    updateTriggers: { getPosition: now } }));
  out.push(new TextLayer({ id: "callsigns", data: labelled, getPosition: (i) => [fleet.pos[2 * i], fleet.pos[2 * i + 1]],
    getText: (i) => { const m = fleet.meta.get(fleet.list[i]); return m?.callsign || m?.id || ""; },
    getSize: 11, getColor: [220, 228, 236, 230], getPixelOffset: [14, -10], getTextAnchor: "start",
    fontFamily: "DejaVu Sans Mono, monospace", characterSet: "auto", fontWeight: "bold",
    outlineWidth: 2, outlineColor: [6, 9, 13, 255], fontSettings: { sdf: true },
    updateTriggers: { getPosition: now, getText: fleet.version } }));
  if (selectedAircraft != null) {
    const i = fleet.list.indexOf(selectedAircraft);
    if (i >= 0) out.push(new ScatterplotLayer({ id: "selected", data: [i], getPosition: (j) => [fleet.pos[2 * j], fleet.pos[2 * j + 1]],
      getRadius: 16, radiusUnits: "pixels", stroked: true, filled: false, lineWidthMinPixels: 1.5,
      getLineColor: [255, 255, 255, 220], updateTriggers: { getPosition: now } }));
  }
  return out;
}

// Indices of the aircraft within the map's bounds and a tenth of them around (panning shows no gap).
function viewBox() {
  const b = window.skyfence.map.getBounds();
  const mx = (b.getEast() - b.getWest()) * 0.1, my = (b.getNorth() - b.getSouth()) * 0.1;
  return [b.getWest() - mx, b.getSouth() - my, b.getEast() + mx, b.getNorth() + my];
}

function inView(n) {
  const out = [];
  const [w, s, e, nn] = viewBox();
  for (let i = 0; i < n; i++) {
    const x = fleet.pos[2 * i], y = fleet.pos[2 * i + 1];
    if (x >= w && x <= e && y >= s && y <= nn) out.push(i);
  }
  return out;
}

let placesShown = [];

function pick(info) {
  if (info.layer?.id === "aircraft" && info.index >= 0) selectAircraft(fleet.list[shown.idx[info.index]]);
}

function selectAircraft(key) {
  selectedAircraft = key;
  dirty.any = true;
  fleet.version++; // its trail
  if (key == null) return document.getElementById("aircraft-card").classList.add("hidden");
  updateCard(true);
}

let cardKey = null, cardIncidents = [];
async function updateCard(fresh = false) {
  const card = document.getElementById("aircraft-card");
  const a = fleet.info(selectedAircraft);
  if (!a.id) return;
  if (fresh || cardKey !== selectedAircraft) {
    cardKey = selectedAircraft;
    cardIncidents = [];
    api("/api/incidents", { query: { aircraft: a.id, limit: 20 } }).then((r) => { cardIncidents = r; }).catch(() => {});
  }
  const row = (k, v) => el("tr", {}, el("td", {}, k), el("td", { class: "mono" }, v));
  card.replaceChildren(
    el("button", { class: "close", onclick: () => selectAircraft(null), title: "close" }, "×"),
    el("h3", { style: `color:${colours[a.party] || colours.unknown}` }, a.callsign || a.id),
    el("table", {}, row("address", a.id), row("country", a.country || "—"), row("party", a.party || "unknown"),
      row("altitude", a.ground ? "ground" : num(a.alt, " ft")), row("speed", num(a.gs, " kt")),
      row("track", num(a.trk, "°")), row("vertical", num(a.vr, " ft/min")), row("seen", a.t ? hms(a.t) : "—")),
    a.departed ? el("div", { class: "warn", id: "card-departed" }, `left the picture: no report since ${hms(a.t)}`) : "",
    el("div", { class: "muted", style: "margin-top:6px" }, cardIncidents.length ? "incidents:" : "no incidents"),
    el("ul", {}, cardIncidents.map((i) => el("li", {}, el("span", { class: "ac-link", onclick: () => window.skyfence.panel.select(i.id) },
      `${i.kind} ${i.severity} ${hms(epochOf(i.start_time))}`)))));
  card.classList.remove("hidden");
}

async function showIncident(map, inc) {
  map.flyTo({ center: [inc.lon, inc.lat], zoom: Math.max(map.getZoom(), 8), speed: 1.6 });
  try {
    const fc = await api(`/api/incidents/${encodeURIComponent(inc.id)}/track`);
    const partyOf = Object.fromEntries(inc.aircraft.map((a) => [a.track_id, a.party]));
    incidentTracks = { incident: inc, paths: fc.features.map((f) => ({ path: f.geometry.coordinates.map((c) => [c[0], c[1]]),
      c: partyRgb(colours, partyOf[f.properties.track_id], 255) })) };
  } catch {
    incidentTracks = { incident: inc, paths: [] };
  }
  dirty.any = true;
  const r = window.skyfence.replay;
  if (r) r.seek(epochOf(inc.start_time) - 60);
}

function legend(agreement) {
  const rows = agreement.parties.map((p) => el("div", {}, el("span", { class: "sw", style: `background:${p.colour}` }), p.name));
  rows.push(el("div", {}, el("span", { class: "sw", style: `background:${agreement.unknown_colour}` }), "other traffic"));
  rows.push(el("div", {}, el("span", { class: "lline" }), agreement.line_name || "the line"));
  document.getElementById("legend").replaceChildren(...rows);
}

function showUser() {
  const who = document.getElementById("who");
  who.replaceChildren(el("span", {}, user.name), el("span", { class: "role" }, user.party ? `${user.role} · ${user.party}` : user.role),
    el("button", { onclick: () => { setToken(null); location.reload(); } }, "Sign out"));
}

function askToken(error = "") {
  document.getElementById("login").classList.remove("hidden");
  document.getElementById("login-error").textContent = error;
  document.getElementById("token").focus();
}

async function signIn(ev) {
  ev.preventDefault();
  setToken(document.getElementById("token").value.trim());
  location.reload();
}

main().catch((e) => { console.error(e); document.getElementById("list-head").textContent = `error: ${e.message}`; });
