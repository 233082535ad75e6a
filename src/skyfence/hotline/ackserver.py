"""``monitor --ack-listen HOST:PORT``: a small HTTP endpoint where a party acknowledges with the link in
its message. ``POST /ack/<token>`` (optional JSON ``{"by": "name"}`` or form ``by=name``) acknowledges
for the token's party, once; ``GET /ack/<token>`` shows a one-button page that posts it (so a link
preview cannot acknowledge). The acknowledgement is the store's, with its audit record."""

from __future__ import annotations

import html
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from skyfence.errors import SkyfenceError
from skyfence.hotline.tokens import TokenError, redeem


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT`` for 127.0.0.1) -> (host, port); one clear line when it is not that."""
    host, sep, port = (text or "").rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SkyfenceError(f"--ack-listen {text!r}: give HOST:PORT, e.g. 127.0.0.1:8089")
    return host.strip("[]") or "127.0.0.1", int(port)


class AckServer:
    def __init__(self, store, host: str = "127.0.0.1", port: int = 0, clock=None) -> None:
        self.store = store
        self.clock = clock  # the hotline's clock (data time in a replay); None: the wall clock
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _token(self) -> str | None:
                parts = self.path.split("?", 1)[0].strip("/").split("/")
                return parts[1] if len(parts) == 2 and parts[0] == "ack" else None

            def _answer(self, code: int, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
                data = text.encode()
                self.send_response(code)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                token = self._token()
                if token is None:
                    return self._answer(404, "not found\n")
                what = outer.describe(token)
                if what is None:
                    return self._answer(403, "unknown or forged acknowledgement token\n")
                page = (f"<!doctype html><meta charset=utf-8><title>skyfence: acknowledge</title>{what}"
                        f"<form method=post action='/ack/{html.escape(token)}'><label>Your name "
                        f"<input name=by required></label> <button>Acknowledge</button></form>")
                self._answer(200, page, "text/html; charset=utf-8")

            def do_POST(self):  # noqa: N802
                token = self._token()
                if token is None:
                    return self._answer(404, "not found\n")
                raw = self.rfile.read(min(int(self.headers.get("content-length", 0) or 0), 4096))
                by = None
                try:
                    if "json" in (self.headers.get("content-type") or ""):
                        by = (json.loads(raw or b"{}") or {}).get("by")
                    else:
                        by = (parse_qs(raw.decode()).get("by") or [None])[0]
                except (ValueError, AttributeError, UnicodeDecodeError):
                    return self._answer(400, "the body is not JSON {\"by\": NAME} nor a form by=NAME\n")
                code, text = outer.acknowledge(token, by)
                self._answer(code, text + "\n")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.host, self.port = self.server.server_address[:2]
        self._thread = threading.Thread(target=self.server.serve_forever, name="hotline-ack", daemon=True)

    def describe(self, token: str) -> str | None:
        """The incident a link is for, as HTML to show above its button (None: an unknown or forged token)."""
        from skyfence.hotline.tokens import peek

        got = peek(self.store.engine, token)
        if got is None:
            return None
        incident_id, party, used = got
        inc = self.store.get(incident_id)
        if inc is None:
            return f"<p>Incident {html.escape(incident_id)}, for {html.escape(party)}.</p>"
        state = " This link has been used already." if used else ""
        return (f"<h1>[{html.escape(inc.severity.replace('_', ' ').upper())}] {html.escape(inc.kind)} "
                f"{html.escape(inc.id)}</h1><p>{html.escape(inc.summary)}</p><p>Status {html.escape(inc.status)}; "
                f"acknowledging for {html.escape(party)}.{state}</p>")

    @property
    def base_url(self) -> str:
        """Where the links point: the address listened on; on every interface, this machine's name (a link
        sent to another centre must not point at its own 127.0.0.1)."""
        if self.host in ("0.0.0.0", "::"):
            import socket

            host = socket.getfqdn() or "127.0.0.1"
        else:
            host = self.host
        return f"http://{host}:{self.port}"

    def acknowledge(self, token: str, by: str | None) -> tuple[int, str]:
        """Redeem a token and acknowledge for its party: (HTTP status, one line)."""
        try:
            incident_id, party = redeem(self.store.engine, token, by or "hotline link")
        except TokenError as exc:
            return (409 if "already used" in str(exc) or "risen" in str(exc) else 403), str(exc)
        try:
            at = datetime.fromtimestamp(self.clock(), timezone.utc) if self.clock else None
            self.store.acknowledge(incident_id, by=by or f"{party} (hotline link)", party=party,
                                   why="acknowledged with the link in the hotline message", at=at)
        except SkyfenceError as exc:
            return 409, str(exc)
        return 200, f"acknowledged incident {incident_id} for {party}"

    def start(self) -> "AckServer":
        self._thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
