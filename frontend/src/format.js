// How values read on the page: UTC times, feet, knots, colours by severity.

export const SEVERITIES = ["info", "caution", "warning", "crossing", "deep_crossing", "loss", "nmac"];
export const SEVERITY_COLOURS = {
  info: "#8a97a6", caution: "#f4d03f", warning: "#ff9f1c", crossing: "#ff7043",
  deep_crossing: "#ff3d3d", loss: "#ff2e63", nmac: "#e040fb",
};
export const severityRank = (s) => SEVERITIES.indexOf(s);
export const sevColour = (s) => SEVERITY_COLOURS[s] || "#8a97a6";

export function hexToRgb(hex, alpha = 255) {
  const h = hex.replace("#", "");
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16), alpha];
}

const pad = (n) => String(n).padStart(2, "0");
// times shown to the nearest second: a report at 09:07:00 that reaches the page as 09:06:59.95 reads 09:07:00
export function hms(epoch) {
  const d = new Date(Math.round(epoch) * 1000);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
}
export function dayHms(epoch) {
  const d = new Date(Math.round(epoch) * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${hms(epoch)}`;
}
export const iso = (epoch) => new Date(epoch * 1000).toISOString().replace(/\.\d+Z$/, "Z");
export const epochOf = (text) => (text ? Date.parse(text) / 1000 : null);
export const shortTime = (text) => (text ? dayHms(epochOf(text)) : "—");

export const num = (v, unit = "", digits = 0) => (v == null || Number.isNaN(v) ? "—" : `${Number(v).toFixed(digits)}${unit}`);

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "style") e.style.cssText = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== false && v != null) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) if (c != null && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

export function badge(severity) {
  return el("span", { class: "badge", style: `background:${sevColour(severity)}` }, severity.replace("_", " "));
}
