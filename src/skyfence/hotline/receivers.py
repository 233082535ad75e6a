"""Small real receivers for the demo, the benchmark and the tests: a webhook endpoint that checks
Standard Webhooks signatures and drops repeats by ``webhook-id``, and a Cursor on Target listener
(TCP or UDP) that parses what it receives with skyfence's own CoT reader."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from defusedxml import ElementTree as SafeET

from skyfence.hotline.signing import verify
from skyfence.sources.cot import split_events


class WebhookReceiver:
    """``http://127.0.0.1:PORT/``: answers with ``status`` (a list of codes is used up first, then 200).

    ``received`` keeps every request (id, headers, body, verified, arrival time); ``unique`` the first of
    each ``webhook-id`` in arrival order; ``on_message(body)`` is called once per new id.
    """

    def __init__(self, secret: str, port: int = 0, answers: list[int] | None = None, on_message=None,
                 delay: float = 0.0) -> None:
        self.secret = secret
        self.delay = delay
        self.answers = list(answers or [])
        self.received: list[dict] = []
        self.unique: list[dict] = []
        self.seen: set[str] = set()
        self.on_message = on_message
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if outer.delay:
                    time.sleep(outer.delay)
                ok = verify(outer.secret, self.headers, body)
                with outer.lock:
                    code = outer.answers.pop(0) if outer.answers else (200 if ok else 401)
                    rec = {"id": self.headers.get("webhook-id"), "headers": dict(self.headers), "verified": ok,
                           "body": json.loads(body) if ok else None, "code": code, "at": time.time()}
                    outer.received.append(rec)
                    new = code < 300 and ok and rec["id"] not in outer.seen
                    if new:
                        outer.seen.add(rec["id"])
                        outer.unique.append(rec)
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()
                if new and outer.on_message is not None:
                    outer.on_message(rec["body"])

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hotline"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class CoTListener:
    """A TAK-like listener on 127.0.0.1: TCP (many connections) or UDP; ``events`` are parsed XML elements."""

    def __init__(self, udp: bool = False, port: int = 0) -> None:
        self.udp = udp
        self.events: list = []
        self.bad: Counter = Counter()
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.url = f"cot+{'udp' if udp else 'tcp'}://127.0.0.1:{self.port}"
        self._stop = False
        self._conns: list[socket.socket] = []
        if not udp:
            self.sock.listen(8)
        self.sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._serve_udp if udp else self._serve_tcp, daemon=True)
        self._thread.start()

    def _take(self, chunks: list[bytes]) -> None:
        with self.lock:
            for raw in chunks:
                try:
                    self.events.append(SafeET.fromstring(raw))
                except Exception:
                    self.bad["malformed"] += 1

    def _serve_udp(self) -> None:
        while not self._stop:
            try:
                data, _ = self.sock.recvfrom(65536)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            events, _ = split_events(data, self.bad)
            self._take(events)

    def _serve_tcp(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        buffer = b""
        conn.settimeout(0.2)
        while not self._stop:
            try:
                data = conn.recv(65536)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                break
            if not data:
                break
            events, buffer = split_events(buffer + data, self.bad)
            self._take(events)
        conn.close()

    def of_type(self, prefix: str) -> list:
        with self.lock:
            return [e for e in self.events if e.get("type", "").startswith(prefix)]

    def close(self) -> None:
        self._stop = True
        for c in self._conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        self.sock.close()
        self._thread.join(2)
