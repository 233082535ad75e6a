// The hotline on the page: a badge in the bar (acknowledgements awaited, messages waiting or dead, a panel
// with the channels on click) and, in an incident's detail, whom it reached and whether they acknowledged.
import { api } from "./api.js";
import { dayHms, el, epochOf, hms } from "./format.js";

const REFRESH_MS = 10000;

export class HotlineBadge {
  constructor(partyName, onRefresh = () => {}) {
    this.partyName = partyName;
    this.onRefresh = onRefresh;
    this.badge = document.getElementById("hotline");
    this.panel = document.getElementById("hotline-panel");
    this.badge.addEventListener("click", () => this.panel.classList.toggle("hidden"));
    this.timer = null;
    this.last = null;
  }

  start() {
    this.refresh();
    setInterval(() => this.refresh(), REFRESH_MS);
  }

  /** Refresh soon (an incident changed: the hotline acts on it within its group wait). */
  soon() {
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.refresh(); }, 1500);
  }

  async refresh() {
    let st;
    try {
      st = await api("/api/hotline");
    } catch {
      this.badge.className = "hl off";
      this.badge.textContent = "hotline ?";
      return;
    }
    this.last = st;
    // messages, not deliveries: one message to a contact goes out on each of its channels
    const { pending = 0, sent = 0, dead = 0 } = st.messages || st.totals;
    const awaited = st.awaited.length;
    const overdue = st.awaited.filter((a) => a.resends > 0 || a.contact_number > 1).length;
    this.badge.className = `hl ${dead ? "bad" : awaited ? "warn" : sent || pending ? "ok" : "idle"}`;
    this.badge.textContent = st.channels.length === 0 ? "hotline: nothing sent"
      : `hotline: ${sent} message${sent === 1 ? "" : "s"} sent` + (pending ? ` · ${pending} waiting` : "")
        + (dead ? ` · ${dead} failed` : "")
        + (awaited ? ` · ${awaited} ack${awaited > 1 ? "s" : ""} awaited` : "");
    this.badge.dataset.awaited = awaited;
    this.badge.dataset.dead = dead;
    this.badge.title = overdue ? `${overdue} re-sent or escalated for want of an acknowledgement` : "the hotline to each party";
    this.render(st);
    this.onRefresh();
  }

  render(st) {
    const row = (...cells) => el("tr", {}, cells.map((c) => el("td", {}, c)));
    this.panel.replaceChildren(
      el("h4", {}, "channels"),
      st.channels.length ? el("table", {}, el("tr", {}, ["channel", "delivered", "waiting", "failed", "last error"].map((h) => el("th", {}, h))),
        st.channels.map((c) => row(el("code", {}, c.channel), c.sent, c.pending, c.dead, c.last_error || "")))
        : el("p", { class: "muted" }, "no message yet"),
      el("h4", {}, "acknowledgements awaited"),
      st.awaited.length ? el("table", {}, el("tr", {}, ["party", "incident", "contact", "re-sent", "due"].map((h) => el("th", {}, h))),
        st.awaited.map((a) => el("tr", { class: "ac-link", onclick: () => window.skyfence.panel.select(a.incident_id) },
          el("td", {}, this.partyName(a.party)), el("td", {}, el("code", {}, a.incident_id)),
          el("td", {}, `#${a.contact_number}`), el("td", {}, a.resends), el("td", { class: "mono" }, hms(epochOf(a.ack_due))))))
        : el("p", { class: "muted" }, "none"));
  }
}

/** The hotline part of an incident's detail. */
export async function incidentHotline(id, partyName) {
  let doc;
  try {
    doc = await api(`/api/incidents/${encodeURIComponent(id)}/hotline`);
  } catch (e) {
    return el("p", { class: "error" }, `hotline: ${e.message}`);
  }
  if (!doc.parties.length) return el("p", { class: "muted", id: "hotline-none" }, "no party told (yet)");
  const state = (t) => t.acknowledged ? el("span", { class: "ok" }, "acknowledged")
    : t.ack_due ? el("span", { class: "warn" }, `awaited, due ${hms(epochOf(t.ack_due))}`)
    : t.messages ? el("span", { class: "muted" }, "told") : el("span", { class: "muted" }, "waiting to send");
  const parties = el("table", { id: "hotline-parties" }, doc.parties.map((t) => el("tr", { "data-party": t.party },
    el("td", {}, partyName(t.party), el("div", { class: "why" }, t.involved ? "its aircraft" : "counterpart")),
    el("td", {}, state(t), el("div", { class: "why" },
      [t.contact ? `${t.contact}${t.contact_number > 1 ? ` (escalated, contact #${t.contact_number})` : ""}` : "no contact",
        ` · ${t.messages} message${t.messages === 1 ? "" : "s"}`, t.resends ? ` · re-sent ${t.resends}` : ""].join(""))))));
  const mark = { sent: "✓", pending: "…", dead: "✗" };
  const messages = el("details", {}, el("summary", {}, `${doc.messages.length} message${doc.messages.length === 1 ? "" : "s"}`),
    doc.messages.map((m) => el("div", { class: "hl-msg" },
      el("div", { class: "why" }, `${dayHms(epochOf(m.created_at))} ${m.type} to ${partyName(m.party)} (${m.contact})`),
      el("div", {}, m.text || ""),
      el("div", { class: "why" }, m.channels.map((c) => `${mark[c.status] || c.status} ${c.channel}`
        + (c.status === "dead" || (c.status === "pending" && c.attempts) ? ` (${c.attempts} tries: ${c.last_error || "?"})` : "")).join("  ")))));
  return el("div", {}, parties, messages);
}
