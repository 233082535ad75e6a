"""Channels: where hotline messages go. One module each; :func:`open_channel` builds one from its address."""

from __future__ import annotations

import os

from skyfence.hotline.channels.base import Channel, DeliveryError
from skyfence.hotline.urls import ChannelURL, parse_channel

SECRET_ENV = "SKYFENCE_WEBHOOK_SECRET"

__all__ = ["Channel", "DeliveryError", "open_channel", "SECRET_ENV"]


def open_channel(address: str | ChannelURL, secret_env: str | None = None, env: dict | None = None) -> Channel:
    """A channel for an address; a webhook's secret comes from ``secret_env`` (default ``SKYFENCE_WEBHOOK_SECRET``)."""
    url = parse_channel(address) if isinstance(address, str) else address
    env = os.environ if env is None else env
    if url.kind == "webhook":
        from skyfence.hotline.channels.webhook import WebhookChannel

        name = secret_env or SECRET_ENV
        return WebhookChannel(url, env.get(name), secret_name=name)
    if url.kind == "mqtt":
        from skyfence.hotline.channels.mqtt import MQTTChannel

        return MQTTChannel(url)
    if url.kind == "cot":
        from skyfence.hotline.channels.cot import CoTChannel

        return CoTChannel(url)
    if url.kind == "log":
        from skyfence.hotline.channels.log import LogChannel

        return LogChannel(url)
    from skyfence.hotline.channels.console import ConsoleChannel

    return ConsoleChannel(url)
