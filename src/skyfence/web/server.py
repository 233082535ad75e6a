"""Run the web application on uvicorn: in the foreground (``serve``) or beside the monitor (a thread)."""

from __future__ import annotations

import threading

import uvicorn

from skyfence.errors import InputError


def parse_listen(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``:8080``, ``8080``, ``0.0.0.0:8080`` or ``[::1]:8080`` into (host, port)."""
    host, _, port = text.strip().rpartition(":") if ":" in text else ("", "", text.strip())
    host = host.strip("[]") or default_host
    try:
        number = int(port)
    except ValueError:
        raise InputError(f"--web {text!r}: expected [HOST]:PORT, such as :8080") from None
    if not 0 < number < 65536:
        raise InputError(f"--web {text!r}: port must be 1-65535")
    return host, number


def config(app, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on",
                          ws_max_size=64 * 1024, timeout_graceful_shutdown=3)


def serve(app, host: str, port: int) -> None:
    """Serve until interrupted; a port in use is one clear line."""
    server = uvicorn.Server(config(app, host, port))
    _check_port(host, port)
    server.run()


def serve_in_thread(app, host: str, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    """Start serving in a daemon thread (the monitor's ``--web``); ``server.should_exit = True`` stops it."""
    _check_port(host, port)
    server = uvicorn.Server(config(app, host, port))
    thread = threading.Thread(target=server.run, name="skyfence-web", daemon=True)
    thread.start()
    return server, thread


def _check_port(host: str, port: int) -> None:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
