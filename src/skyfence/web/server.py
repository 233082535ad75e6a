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
                          ws_max_size=64 * 1024, timeout_graceful_shutdown=3,
                          ws_per_message_deflate=False)  # frames come deflated once for all (web.frames)


# The kernel's send buffer of each connection. Linux would let it grow to 4 MB: some 50 frames of 5,000
# aircraft queued for a client that does not read, all stale before it sees them. With 256 KB (the kernel
# doubles it) a slow client holds a few frames at most; then its latest-only slot drops the rest.
SEND_BUFFER = 256 * 1024


def listen(host: str, port: int):
    """The listening socket (its connections inherit ``SEND_BUFFER``); a port in use is one clear line."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(app, host: str, port: int, sock=None) -> None:
    """Serve until Ctrl-C or SIGTERM, then return: stopping a server is its normal end (exit status 0), so
    ``make demo`` ended with Ctrl-C reports no error. uvicorn shuts down gracefully, then raises the signal
    it caught again; both signals arrive here as a KeyboardInterrupt, which ends it."""
    import signal

    from skyfence.progress import stderr

    sock = sock or listen(host, port)
    # uvicorn hands the signal back to the handler it found: SIGTERM's default would kill the process
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        uvicorn.Server(config(app, host, port)).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    stderr.print("skyfence: stopped serving", highlight=False)


def serve_in_thread(app, host: str, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    """Start serving in a daemon thread (the monitor's ``--web``); ``server.should_exit = True`` stops it."""
    sock = listen(host, port)
    server = uvicorn.Server(config(app, host, port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="skyfence-web", daemon=True)
    thread.start()
    return server, thread


def start_beside_monitor(listen: str, store, agreement, picture):
    """``monitor --web [HOST]:PORT``: the page and API over the monitor's own store and picture, served from a
    thread of the monitor's process. Returns the uvicorn server (``should_exit = True`` stops it)."""
    from skyfence.progress import stderr
    from skyfence.web import WebContext, create_app

    if store is None:
        raise InputError("--web needs --store: the page's incidents and users live in the store")
    host, port = parse_listen(listen)
    server, _ = serve_in_thread(create_app(WebContext(store=store, agreement=agreement, picture=picture)), host, port)
    stderr.print(f"web page on http://{host}:{port}/ (tokens: skyfence users add ... --store)", highlight=False)
    return server


def keep_serving(server) -> None:
    """After the monitor's data ended: serve the page until Ctrl-C or SIGTERM, then stop the server."""
    import signal
    import time

    from skyfence.progress import stderr

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stderr.print("the data has ended; the page stays up until Ctrl-C", highlight=False)
    try:
        while not stop.is_set() and not server.should_exit:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.should_exit = True
