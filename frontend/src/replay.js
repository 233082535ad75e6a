// Replay of a recorded day: a time slider, speeds 1x-120x, incidents of the moment marked.
import { dayHms, epochOf, sevColour, el } from "./format.js";

export class Replay {
  /** `shown()`: the data time of the picture on the map (the server's replay clock), or null before a frame. */
  constructor(span, live, panel, shown = () => null) {
    this.shown = shown;
    this.start = span.start;
    this.end = span.end;
    this.live = live;
    this.panel = panel;
    this.playing = true;
    this.time = span.time ?? span.start;
    this.box = document.getElementById("replay");
    this.slider = document.getElementById("slider");
    this.speed = document.getElementById("speed");
    this.play = document.getElementById("play");
    this.label = document.getElementById("replay-time");
    this.box.classList.remove("hidden");
    this.slider.min = Math.floor(this.start);
    this.slider.max = Math.ceil(this.end);
    this.slider.value = this.time;
    this.slider.addEventListener("input", () => this.seek(Number(this.slider.value)));
    this.speed.addEventListener("change", () => this.send());
    this.play.addEventListener("click", () => { this.playing = !this.playing; this.send(); });
    this.marks();
    this.send();
    setInterval(() => this.tick(), 100);
  }

  marks() {
    const span = this.end - this.start || 1;
    const marks = [...this.panel.byId.values()].map((i) => el("i", {
      style: `left:${(100 * (epochOf(i.start_time) - this.start)) / span}%;background:${sevColour(i.severity)}`,
      title: `${i.kind} ${i.severity}` }));
    document.getElementById("marks").replaceChildren(...marks);
  }

  seek(t) {
    this.time = Math.max(this.start, Math.min(this.end, t));
    this.slider.value = this.time;
    this.send();
  }

  send() {
    this.play.innerHTML = this.playing ? "&#10074;&#10074;" : "&#9654;";
    this.live.setClock(this.time, Number(this.speed.value), this.playing);
    this.sentAt = performance.now();
    this.sentTime = this.time;
  }

  tick() {
    if (this.playing) {
      // the clock of the picture shown, once the server has had a second to take a new setting: the page's own
      // estimate ran 7-40 s (at 30x) ahead of the map's clock in the bar above (user trial)
      const shown = performance.now() - this.sentAt > 1000 ? this.shown() : null;
      this.time = Math.min(this.end, shown ?? this.sentTime + ((performance.now() - this.sentAt) / 1000) * Number(this.speed.value));
      if (document.activeElement !== this.slider) this.slider.value = this.time;
    }
    this.label.textContent = dayHms(this.time);
  }
}
