"""What every channel is: a name (its address, no secret) and ``send``, which returns once the message
has left (accepted by the receiver where the protocol says so) or raises :class:`DeliveryError`."""

from __future__ import annotations

from typing import Protocol

from skyfence.hotline.message import Message


class DeliveryError(Exception):
    """A message did not leave; the outbox retries it later (the text says why, without secrets)."""


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...

    def close(self) -> None: ...
