// The air picture held in the page: applied from the server's compact frames, moved along each
// aircraft's track between frames (dead reckoning), with a short trail per aircraft.

const KT = 0.514444; // m/s per knot
const M_PER_DEG = 111320;
const TRAIL_POINTS = 40;
const MAX_EXTRAPOLATE = 20; // s of data time an aircraft is moved on without a new report
const DEPARTED_KEPT = 500; // aircraft that left the picture, remembered for their card

export class Fleet {
  constructor() {
    this.meta = new Map(); // key -> {id, callsign, party, country}
    this.state = new Map(); // key -> {lat, lon, alt, gs, trk, vr, t, ground, trail: [[lon, lat], ...]}
    this.list = []; // keys in a fixed order for the typed arrays
    this.time = null; // data time of the last frame (epoch s)
    this.received = 0; // performance.now() when it arrived
    this.rate = 1; // data seconds per wall second (replay speed, 0 when paused)
    this.version = 0; // bumped when the set of aircraft or their trails change
    this.maxSpeed = 0; // the fastest aircraft airborne, m/s
    this.pos = new Float32Array(0);
    this.angle = new Float32Array(0);
    this.colour = new Uint8Array(0);
    this.filled = -1; // the version the angles and colours were filled for
    this.departed = new Map(); // key -> the last of an aircraft that left the picture, for its card
  }

  /** An aircraft leaves the picture: its last report and identity are kept for its card. */
  depart(k) {
    const s = this.state.get(k);
    if (!s) return;
    this.departed.set(k, { ...this.meta.get(k), ...s, departed: true });
    if (this.departed.size > DEPARTED_KEPT) this.departed.delete(this.departed.keys().next().value);
    this.state.delete(k);
  }

  /** Apply a `picture` frame: {time, full, meta: {k: [id, callsign, party, country]}, rows, gone, rate};
   * `jumped`: the clock jumped (a replay's seek), so the trails start anew. */
  apply(frame, jumped = false) {
    if (frame.full) {
      const now = new Set(frame.rows.map((row) => row[0]));
      for (const k of [...this.state.keys()]) if (!now.has(k)) this.depart(k);
      this.meta.clear();
    }
    if (jumped) for (const s of this.state.values()) s.trail = [];
    for (const [k, m] of Object.entries(frame.meta || {})) {
      this.meta.set(Number(k), { id: m[0], callsign: m[1], party: m[2], country: m[3] });
    }
    for (const [k, lat, lon, alt, gs, trk, vr, age, ground] of frame.rows) {
      let s = this.state.get(k);
      if (!s) this.state.set(k, (s = { trail: [] }));
      this.departed.delete(k);
      const jump = s.lon != null && Math.abs(s.lon - lon) + Math.abs(s.lat - lat) > 1.0;
      if (jump) s.trail = [];
      Object.assign(s, { lat, lon, alt, gs, trk, vr, t: frame.time - (age || 0), ground: !!ground });
      s.trail.push([lon, lat]);
      if (s.trail.length > TRAIL_POINTS) s.trail.shift();
    }
    for (const k of frame.gone || []) this.depart(k);
    this.time = frame.time;
    this.received = performance.now();
    this.rate = frame.rate ?? 1;
    this.list = [...this.state.keys()];
    this.maxSpeed = 0;
    for (const st of this.state.values()) if (!st.ground && st.gs > this.maxSpeed) this.maxSpeed = st.gs;
    this.maxSpeed *= KT;
    this.version++;
  }

  /** Seed trails from /api/tracks: {track_id: [[time, lat, lon, alt], ...]}. */
  seedTrails(tracks) {
    const byId = new Map([...this.meta].map(([k, m]) => [m.id, k]));
    for (const [id, pts] of Object.entries(tracks)) {
      const s = this.state.get(byId.get(id));
      if (s) s.trail = pts.slice(-TRAIL_POINTS).map((p) => [p[2], p[1]]);
    }
    this.version++;
  }

  /** The data time now, moving on from the last frame at the replay rate. */
  now() {
    if (this.time == null) return null;
    return this.time + ((performance.now() - this.received) / 1000) * this.rate;
  }

  /** Fill the typed arrays with each aircraft's position at `now` (data time); angles and colours change
   * only with a frame, so they are filled once per frame. */
  positions(now, colourOf) {
    const n = this.list.length;
    if (this.pos.length !== n * 2) {
      this.pos = new Float32Array(n * 2);
      this.angle = new Float32Array(n);
      this.colour = new Uint8Array(n * 4);
      this.filled = -1;
    }
    const refill = this.filled !== this.version;
    this.filled = this.version;
    for (let i = 0; i < n; i++) {
      const k = this.list[i];
      const s = this.state.get(k);
      let { lat, lon } = s;
      if (s.gs != null && s.trk != null && !s.ground && now != null) {
        const dt = Math.max(0, Math.min(now - s.t, MAX_EXTRAPOLATE));
        const d = s.gs * KT * dt;
        const r = (s.trk * Math.PI) / 180;
        lat += (d * Math.cos(r)) / M_PER_DEG;
        lon += (d * Math.sin(r)) / (M_PER_DEG * Math.cos((lat * Math.PI) / 180));
      }
      this.pos[2 * i] = lon;
      this.pos[2 * i + 1] = lat;
      if (refill) {
        this.angle[i] = -(s.trk || 0);
        this.colour.set(colourOf(this.meta.get(k)?.party), 4 * i);
      }
    }
    return n;
  }

  /** What the page knows of an aircraft: in the picture, or (``departed``) as it was when it left. */
  info(key) {
    const s = this.state.get(key);
    if (!s && this.departed.has(key)) return { key, ...this.departed.get(key) };
    return { key, ...(this.meta.get(key) || {}), ...s };
  }

  keyOf(trackId) {
    for (const [k, m] of this.meta) if (m.id === trackId) return k;
    return null;
  }
}
