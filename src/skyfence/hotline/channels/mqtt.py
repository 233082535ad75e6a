"""MQTT: one topic per party, kind and incident (``PREFIX/PARTY/KIND/INCIDENT``), QoS 1, open incidents
retained (a client that subscribes later sees what is open); a resolved incident's retained message is
cleared. ``send`` returns once the broker has acknowledged the message (PUBACK)."""

from __future__ import annotations

import os
import threading

import paho.mqtt.client as mqtt

from skyfence.hotline.channels.base import DeliveryError
from skyfence.hotline.message import Message
from skyfence.hotline.urls import ChannelURL


def topic(prefix: str, party: str, kind: str, incident_id: str) -> str:
    return f"{prefix}/{party}/{kind}/{incident_id}"


class MQTTChannel:
    def __init__(self, url: ChannelURL, timeout: float = 5.0) -> None:
        self.name = url.text
        self.prefix = url.path
        self.timeout = timeout
        self._connected = threading.Event()
        self._was_connected = False
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                   client_id=f"skyfence-hotline-{os.getpid()}-{id(self):x}", clean_session=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = lambda *a: self._connected.clear()
        self._client.reconnect_delay_set(min_delay=1, max_delay=5)
        self._client.connect_async(url.host, url.port, keepalive=30)
        self._client.loop_start()

    def _on_connect(self, client, userdata, flags, reason, properties=None) -> None:
        if not reason.is_failure:
            self._was_connected = True
            self._connected.set()

    def send(self, message: Message) -> None:
        # the first message waits for the first connection; later, a broker that is away fails at once
        if not self._connected.wait(0 if self._was_connected else self.timeout):
            raise DeliveryError("not connected to the MQTT broker")
        t = topic(self.prefix, message.party, message.kind, message.incident_id)
        resolved = message.status == "resolved"
        infos = [self._client.publish(t, message.data, qos=1, retain=not resolved)]
        if resolved:
            infos.append(self._client.publish(t, b"", qos=1, retain=True))  # clears the retained message
        for info in infos:
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise DeliveryError(f"MQTT publish failed: {mqtt.error_string(info.rc)}")
            try:
                info.wait_for_publish(self.timeout)
            except (RuntimeError, ValueError) as exc:
                raise DeliveryError(f"MQTT publish failed: {exc}") from None
            if not info.is_published():
                raise DeliveryError("the MQTT broker did not acknowledge in time")

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()
