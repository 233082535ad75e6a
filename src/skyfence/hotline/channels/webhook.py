"""Webhook: a JSON POST signed per Standard Webhooks; any 2xx answer means delivered."""

from __future__ import annotations

import httpx

from skyfence.hotline.channels.base import DeliveryError
from skyfence.hotline.message import Message
from skyfence.hotline.signing import headers, secret_key
from skyfence.hotline.urls import ChannelURL


class WebhookChannel:
    def __init__(self, url: ChannelURL, secret: str | None, timeout: float = 5.0,
                 secret_name: str = "SKYFENCE_WEBHOOK_SECRET") -> None:
        self.name = url.text
        self._target = f"{url.scheme}://{url.host if ':' not in url.host else f'[{url.host}]'}:{url.port}{url.path}"
        self._key = secret_key(secret, secret_name)
        self._client = httpx.Client(timeout=timeout, headers={"user-agent": "skyfence-hotline"})

    def send(self, message: Message) -> None:
        body = message.data
        try:
            answer = self._client.post(self._target, content=body, headers={
                "content-type": "application/json", **headers(self._key, message.id, body)})
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
        if not 200 <= answer.status_code < 300:
            raise DeliveryError(f"HTTP {answer.status_code}")

    def close(self) -> None:
        self._client.close()
