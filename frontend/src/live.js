// The websocket: the picture once a second (only what changed) and incident changes as they happen.
import { token } from "./api.js";

// Pictures come as binary messages: JSON compressed once on the server with raw DEFLATE.
async function decode(data) {
  if (typeof data === "string") return JSON.parse(data);
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return JSON.parse(await new Response(stream).text());
}

export class Live {
  constructor(handlers) {
    this.h = handlers;
    this.ws = null;
    this.retry = 1000;
    this.clock = null; // replay clock to restore after a reconnect
  }

  connect() {
    const url = new URL("/ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = (this.ws = new WebSocket(url));
    ws.binaryType = "arraybuffer";
    let chain = Promise.resolve(); // inflating is asynchronous: keep the messages in order
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "auth", token: token() }));
      if (this.clock) ws.send(JSON.stringify(this.clock));
    };
    ws.onmessage = (ev) => {
      chain = chain.then(() => decode(ev.data)).then((msg) => this.handle(msg)).catch((e) => console.error(e));
    };
    ws.onclose = () => {
      this.h.onState(false);
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 15000);
    };
  }

  handle(msg) {
    if (msg.type === "picture") this.h.onPicture(msg);
    else if (msg.type === "incident") this.h.onIncident(msg.change);
    else if (msg.type === "resync") this.h.onResync();
    else if (msg.type === "hello") { this.retry = 1000; this.h.onState(true); }
  }

  /** Replay only: set this client's clock (data time in epoch seconds, speed, playing). */
  setClock(time, speed, playing) {
    this.clock = { type: "clock", time, speed, playing };
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(this.clock));
  }
}
