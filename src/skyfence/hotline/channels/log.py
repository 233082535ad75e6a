"""A JSON-lines log: one message body a line, appended and flushed to disk before ``send`` returns."""

from __future__ import annotations

import os
from pathlib import Path

from skyfence.hotline.channels.base import DeliveryError
from skyfence.hotline.message import Message
from skyfence.hotline.urls import ChannelURL


class LogChannel:
    def __init__(self, url: ChannelURL) -> None:
        self.name = url.text
        self.path = Path(url.path)

    def send(self, message: Message) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as f:
                f.write(message.data + b"\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise DeliveryError(f"{self.path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        pass
