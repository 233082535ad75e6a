"""Starting the hotline the way the commands do (``monitor --alert``, ``hotline run``): its channels,
the acknowledgement endpoint, and the clock."""

from __future__ import annotations

from skyfence.errors import SkyfenceError
from skyfence.hotline.urls import ChannelURLError, parse_channel


def check_alerts(alerts) -> tuple[str, ...]:
    """``--alert`` addresses, checked (one clear line for a bad one)."""
    out = []
    for a in alerts or ():
        try:
            out.append(parse_channel(a).text)
        except ChannelURLError as exc:
            raise SkyfenceError(f"--alert {exc}") from None
    return tuple(out)


def start_hotline(store, agreement, alerts=(), ack_listen: str | None = None, clock=None, stepping: bool = True,
                  ack_url: str | None = None):
    """A running :class:`Hotline` (and its :class:`AckServer` when ``ack_listen``); stop both when done.
    ``stepping`` False: the caller runs its rounds (:meth:`Hotline.step`). ``ack_url``: the address the links
    carry, when the other centres reach the server by another (a public name, a proxy)."""
    import time

    from skyfence.hotline.ackserver import AckServer, parse_listen
    from skyfence.hotline.service import Hotline

    extra = check_alerts(alerts)
    if ack_url is not None and not ack_listen:
        raise SkyfenceError("--ack-url needs --ack-listen (the server the links lead to)")
    if ack_url is not None and not ack_url.startswith(("http://", "https://")):
        raise SkyfenceError(f"--ack-url {ack_url!r}: give the links' base address, http(s)://HOST[:PORT][/PATH]")
    ack = None
    if ack_listen:
        host, port = parse_listen(ack_listen)
        try:
            ack = AckServer(store, host, port, clock).start()
        except OSError as exc:
            raise SkyfenceError(f"--ack-listen {ack_listen}: {exc.strerror or exc}") from None
    hot = Hotline(store, agreement, alert_channels=extra, clock=clock or time.time,
                  ack_base=(ack_url or ack.base_url) if ack else None)
    try:
        hot.start(stepping)
    except Exception:
        if ack is not None:
            ack.close()
        raise
    return hot, ack
