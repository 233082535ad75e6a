// The incident list beside the map (open first, by severity), its filters, the selected incident
// with its audit trail, and the acknowledge / resolve / comment actions.
import { api } from "./api.js";
import { incidentHotline } from "./hotline.js";
import { badge, el, epochOf, SEVERITIES, severityRank, sevColour, shortTime, hms } from "./format.js";

const STATUS_ORDER = { open: 0, acknowledged: 1, resolved: 2 };

export class IncidentPanel {
  constructor({ onSelect, onAircraft, user, parties }) {
    this.byId = new Map();
    this.selected = null;
    this.user = user;
    this.partyName = (id) => parties.find((p) => p.id === id)?.name || id;
    this.onSelect = onSelect;
    this.onAircraft = onAircraft;
    this.moment = null; // replay time: incidents under way then are marked
    this.list = document.getElementById("incidents");
    this.detail = document.getElementById("detail");
    this.head = document.getElementById("list-head");
    const party = document.getElementById("f-party");
    for (const p of parties) party.append(el("option", { value: p.id }, p.name));
    const sev = document.getElementById("f-severity");
    // as the API reads it: that severity or higher
    for (const s of SEVERITIES) sev.append(el("option", { value: s }, `${s.replace("_", " ")} and above`));
    for (const id of ["f-status", "f-kind", "f-party", "f-severity"]) {
      document.getElementById(id).addEventListener("change", () => this.load());
    }
  }

  filters() {
    const v = (id) => document.getElementById(id).value;
    return { status: v("f-status"), kind: v("f-kind"), party: v("f-party"), severity: v("f-severity") };
  }

  async load() {
    // the answer to the latest filters wins: a filter changed while the first list loads sent a second request,
    // and the first answer, coming after it, put back the list of the filters before (a browser test, under load)
    const asked = (this.asked = (this.asked || 0) + 1);
    const f = this.filters();
    const rows = await api("/api/incidents", { query: { ...f, limit: 1000 } });
    if (asked !== this.asked) return;
    this.byId = new Map(rows.map((r) => [r.id, r]));
    this.render();
  }

  matches(inc) {
    const f = this.filters();
    return (!f.status || inc.status === f.status) && (!f.kind || inc.kind === f.kind)
      && (!f.party || inc.parties.includes(f.party))
      && (!f.severity || severityRank(inc.severity) >= severityRank(f.severity));
  }

  /** A change pushed by the server (websocket): the incident after it. */
  changed(change) {
    const inc = change.incident;
    if (this.matches(inc)) this.byId.set(inc.id, inc);
    else this.byId.delete(inc.id);
    this.render();
    if (this.selected === inc.id) this.showDetail(inc.id);
  }

  sorted() {
    return [...this.byId.values()].sort((a, b) =>
      (STATUS_ORDER[a.status] - STATUS_ORDER[b.status])
      || (severityRank(b.severity) - severityRank(a.severity))
      || (epochOf(b.start_time) - epochOf(a.start_time)));
  }

  activeAt(inc, t) {
    if (t == null) return false;
    const s = epochOf(inc.start_time), e = epochOf(inc.end_time) ?? epochOf(inc.last_update_time) ?? s;
    return s - 30 <= t && t <= e + 30;
  }

  setMoment(t) {
    this.moment = t;
    for (const li of this.list.children) li.classList.toggle("now", this.activeAt(this.byId.get(li.dataset.id), t));
  }

  active() {
    return [...this.byId.values()].filter((i) => this.activeAt(i, this.moment));
  }

  render() {
    const items = this.sorted();
    const open = items.filter((i) => i.status === "open").length;
    this.head.textContent = `${items.length} incidents, ${open} open`;
    this.list.replaceChildren(...items.map((inc) => {
      const who = inc.aircraft.map((a) => a.callsign || a.track_id).join(" · ");
      const li = el("li", { "data-id": inc.id, class: `${inc.status}${inc.id === this.selected ? " selected" : ""}`,
        onclick: () => this.select(inc.id) },
        el("span", { class: "sev", style: `background:${sevColour(inc.severity)}` }),
        // the names give way (cut with an ellipsis), never the severity and the status
        el("span", { class: "title" }, el("span", { class: "who" }, `${inc.kind} ${who}`), badge(inc.severity),
          el("span", { class: `status ${inc.status}` }, inc.status)),
        el("span", { class: "when" }, hms(epochOf(inc.start_time))),
        el("span", { class: "sum" }, inc.summary));
      if (this.activeAt(inc, this.moment)) li.classList.add("now");
      return li;
    }));
  }

  async select(id) {
    this.selected = id;
    for (const li of this.list.children) li.classList.toggle("selected", li.dataset.id === id);
    const inc = await this.showDetail(id);
    if (inc) this.onSelect(inc);
  }

  async showDetail(id) {
    let doc;
    try {
      doc = await api(`/api/incidents/${encodeURIComponent(id)}`);
    } catch (e) {
      this.detail.replaceChildren(el("p", { class: "error" }, e.message));
      return null;
    }
    const inc = doc.incident;
    // the list keeps to its filters: an incident resolved from its detail leaves a list of open ones
    if (this.matches(inc)) this.byId.set(inc.id, inc);
    else this.byId.delete(inc.id);
    // the system's entries are on the data's clock: a recording's, days or years back; people's on the wall clock
    const now = Date.now() / 1000;
    const mixed = this.moment != null
      || doc.audit.some((c) => c.who === "system" && Math.abs(epochOf(c.time) - now) > 3600);
    const hotline = el("div", { id: "hotline-detail" }, el("span", { class: "muted" }, "…"));
    incidentHotline(inc.id, this.partyName).then((h) => hotline.replaceChildren(h));
    const row = (k, v) => el("tr", {}, el("td", {}, k), el("td", {}, v));
    const acks = Object.entries(inc.acks || {}).map(([p, a]) => `${p}: ${a.by} at ${shortTime(a.time)}`);
    const details = Object.entries(inc.details || {})
      .filter(([, v]) => v !== null && typeof v !== "object")
      // positions to 5 decimals (a metre or so), other figures to 2
      .map(([k, v]) => row(k.replaceAll("_", " "), typeof v === "number" ? +v.toFixed(/(^|_)(lat|lon)$/.test(k) ? 5 : 2)
        : /^\d{4}-\d\d-\d\dT/.test(String(v)) ? shortTime(String(v)) : String(v)));
    this.detail.replaceChildren(
      el("h3", {}, `${inc.kind} `, badge(inc.severity), el("span", { class: `status ${inc.status}` }, inc.status)),
      el("div", { class: "summary" }, inc.summary),
      el("table", {},
        row("id", el("code", {}, inc.id)),
        row("start", shortTime(inc.start_time)), row("end", inc.end_time ? shortTime(inc.end_time) : "under way"),
        row("parties", inc.parties.join(", ")),
        row("aircraft", el("span", {}, inc.aircraft.map((a, i) => [i ? ", " : "",
          el("span", { class: "ac-link", onclick: () => this.onAircraft(a.track_id) },
            `${a.callsign || a.track_id} (${a.track_id}, ${a.party || "unknown"})`)]))),
        row("position", `${inc.lat.toFixed(4)}, ${inc.lon.toFixed(4)}`),
        row("acknowledged by", acks.length ? acks.join("; ") : "nobody yet")),
      // the actions before the event's figures, which run to thirty rows (user trial: out of reach below them)
      this.actions(inc),
      el("details", { class: "figures" }, el("summary", {}, `figures (${details.length})`), el("table", {}, ...details)),
      el("h4", {}, "hotline"),
      hotline,
      el("h4", {}, "audit trail"),
      el("table", { id: "audit" }, doc.audit.map((c) => el("tr", { "data-action": c.action },
        el("td", {}, shortTime(c.time), mixed && c.who !== "system"
          ? el("div", { class: "muted clock", title: "a recording: the monitor's entries are on the recording's clock, "
            + "people's on the wall clock" }, "wall clock") : ""),
        el("td", {}, el("b", {}, c.action), ` by ${c.who}`,
          c.why ? el("div", { class: "why" }, c.why) : null)))));
    this.detail.classList.remove("hidden");
    this.render();
    return inc;
  }

  /** Fetch the selected incident's hotline part again (the hotline acts on its own clock). */
  async refreshHotline() {
    const box = document.getElementById("hotline-detail");
    if (!this.selected || !box) return;
    const id = this.selected;
    const h = await incidentHotline(id, this.partyName);
    if (this.selected === id && box.isConnected) box.replaceChildren(h);
  }

  actions(inc) {
    const u = this.user();
    if (!u || u.role === "viewer") {
      return el("div", { class: "actions muted" }, u ? "viewers read only" : "sign in as an officer to acknowledge");
    }
    const mine = u.role === "admin" || inc.parties.includes(u.party);
    const onlyMine = u.role === "admin" || (inc.parties.length > 0 && inc.parties.every((p) => p === u.party));
    const why = el("input", { id: "why", placeholder: "why (optional)", maxlength: 500 });
    const text = el("textarea", { id: "comment-text", placeholder: "comment", maxlength: 2000 });
    const msg = el("span", { class: "error", id: "action-error" });
    const act = (path, body) => async () => {
      msg.textContent = "";
      try {
        await api(`/api/incidents/${encodeURIComponent(inc.id)}/${path}`, { method: "POST", body: body() });
        await this.showDetail(inc.id);
      } catch (e) {
        msg.textContent = e.message;
      }
    };
    const acked = u.role !== "admin" && inc.acks && inc.acks[u.party];
    return el("div", {},
      el("div", { class: "actions" }, why,
        el("button", { id: "ack", class: "primary", disabled: !mine || !!acked || inc.status === "resolved",
          title: mine ? "acknowledge for your party" : "not your party's incident", onclick: act("ack", () => ({ why: why.value })) },
          acked ? "acknowledged" : "Acknowledge"),
        el("button", { id: "resolve", disabled: !onlyMine || inc.status === "resolved",
          title: onlyMine ? "resolve" : "an incident of several parties is resolved by an admin",
          onclick: act("resolve", () => ({ why: why.value })) }, "Resolve")),
      el("div", { class: "actions" }, text),
      el("div", { class: "actions" }, el("button", { id: "comment", disabled: !mine,
        onclick: act("comment", () => ({ text: text.value })) }, "Comment"), msg));
  }
}
