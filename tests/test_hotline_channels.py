"""Each channel against a real receiver on this machine: a signed webhook to an HTTP server, MQTT through
Mosquitto, Cursor on Target to a TCP and a UDP listener that parse it, the JSON-lines log."""

import json
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest

from skyfence.hotline.channels import DeliveryError, open_channel
from skyfence.hotline.receivers import CoTListener, WebhookReceiver
from skyfence.hotline.signing import SecretError, new_secret, sign, verify
from skyfence.sources.cot import parse_events
from tests.hotline_helpers import SECRET, broker, message, wait_for


def test_webhook_is_signed_per_standard_webhooks_and_500_is_a_failure():
    rx = WebhookReceiver(SECRET, answers=[500])
    ch = open_channel(rx.url, env={"SKYFENCE_WEBHOOK_SECRET": SECRET})
    try:
        with pytest.raises(DeliveryError, match="HTTP 500"):
            ch.send(message("msg-a"))
        ch.send(message("msg-a"))
        first, second = rx.received
        assert first["id"] == second["id"] == "msg-a"  # the same id on the retry
        assert second["verified"] and second["code"] == 200
        h = second["headers"]
        assert h["webhook-signature"].startswith("v1,") and h["content-type"] == "application/json"
        body = second["body"]
        for field in ("incident_id", "event", "kind", "severity", "status", "parties", "aircraft", "time", "lat",
                      "lon", "message"):
            assert field in body
        assert body["aircraft"][0] == {"track_id": "155a01", "callsign": "RFF90", "party": "russia_syria"}
        # the signature is HMAC-SHA256 of id.timestamp.body under the base64 key after whsec_
        import base64
        import hashlib
        import hmac
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        key = base64.b64decode(SECRET.removeprefix("whsec_"))
        mac = hmac.new(key, f"msg-a.{h['webhook-timestamp']}.".encode() + raw, hashlib.sha256).digest()
        assert h["webhook-signature"] == "v1," + base64.b64encode(mac).decode()
        assert not verify(new_secret(), h, raw)  # another secret does not verify
        assert not verify(SECRET, h, raw + b" ")  # nor a changed body
        assert not verify(SECRET, h, raw, now=int(h["webhook-timestamp"]) + 3600)  # nor an old timestamp
    finally:
        ch.close()
        rx.close()


def test_webhook_receiver_gone_is_a_delivery_error():
    rx = WebhookReceiver(SECRET)
    url = rx.url
    rx.close()
    ch = open_channel(url, env={"SKYFENCE_WEBHOOK_SECRET": SECRET})
    with pytest.raises(DeliveryError):
        ch.send(message())


@pytest.mark.parametrize("secret, words", [(None, "set SKYFENCE_WEBHOOK_SECRET"), ("abc", "whsec_"),
                                           ("whsec_***", "base64"), ("whsec_YWJj", "shorter")])
def test_webhook_secret_problems_are_one_line_without_the_secret(secret, words):
    env = {} if secret is None else {"SKYFENCE_WEBHOOK_SECRET": secret}
    with pytest.raises(SecretError) as err:
        open_channel("http://127.0.0.1:9/x", env=env)
    assert words in str(err.value) and (secret is None or secret not in str(err.value))


def test_a_contact_may_name_its_own_secret_variable():
    other = new_secret()
    rx = WebhookReceiver(other)
    ch = open_channel(rx.url, secret_env="BLUE_SECRET", env={"BLUE_SECRET": other, "SKYFENCE_WEBHOOK_SECRET": SECRET})
    try:
        ch.send(message())
        assert rx.received[0]["verified"]
    finally:
        ch.close()
        rx.close()


def test_signature_of_a_known_vector():
    # the Standard Webhooks reference example: secret, id, timestamp and payload from its README
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    import base64
    key = base64.b64decode(secret.removeprefix("whsec_"))
    sig = sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_mqtt_topic_per_party_and_kind_qos1_open_retained_resolved_cleared():
    broker()
    prefix = f"skyfence-test-{uuid.uuid4().hex[:8]}"
    ch = open_channel(f"mqtt://127.0.0.1:1883/{prefix}")
    got: list = []
    ready = threading.Event()
    try:
        ch.send(message("m-open", party="coalition"))
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        sub.on_connect = lambda c, u, f, r, p: (c.subscribe(f"{prefix}/#", qos=1), ready.set())
        sub.on_message = lambda c, u, m: got.append((m.topic, m.payload, m.retain, m.qos))
        sub.connect("127.0.0.1", 1883)
        sub.loop_start()
        assert ready.wait(5)
        # a subscriber arriving later sees the open incident: retained, on the party's and kind's topic
        assert wait_for(lambda: got)
        t, payload, retained, qos = got[0]
        assert t == f"{prefix}/coalition/crossing/inc-1" and retained and qos == 1
        assert json.loads(payload)["id"] == "m-open"
        ch.send(message("m-done", party="coalition", status="resolved"))
        assert wait_for(lambda: len(got) >= 3)
        assert json.loads(got[1][1])["status"] == "resolved" and got[2][1] == b""
        sub.loop_stop()
        sub.disconnect()
        # once resolved, nothing is retained any more
        later: list = []
        sub2 = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        sub2.on_connect = lambda c, u, f, r, p: c.subscribe(f"{prefix}/#", qos=1)
        sub2.on_message = lambda c, u, m: later.append(m.payload)
        sub2.connect("127.0.0.1", 1883)
        sub2.loop_start()
        assert not wait_for(lambda: later, timeout=1.0)
        sub2.loop_stop()
        sub2.disconnect()
    finally:
        ch.close()


def test_mqtt_broker_unreachable_is_a_delivery_error():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    ch = open_channel(f"mqtt://127.0.0.1:{port}/x")
    ch.timeout = 0.5
    try:
        with pytest.raises(DeliveryError, match="not connected"):
            ch.send(message())
    finally:
        ch.close()


@pytest.mark.parametrize("udp", [False, True])
def test_cot_alarm_and_tracks_reach_a_listener_that_parses_them(udp):
    rx = CoTListener(udp=udp)
    ch = open_channel(rx.url)
    try:
        ch.send(message("m-cot", party="coalition"))
        assert wait_for(lambda: len(rx.events) >= 3)
        alarm = rx.of_type("b-a")[0]
        assert alarm.get("type") == "b-a-g" and alarm.get("uid") == "skyfence-inc-1"
        assert float(alarm.find("point").get("lat")) == pytest.approx(35.45)
        assert "text of m-cot" in alarm.find("detail/remarks").text
        assert alarm.find("detail/skyfence").get("message_id") == "m-cot"
        tracks = {e.get("uid"): e for e in rx.of_type("a-")}
        assert tracks["ICAO-155A01"].get("type") == "a-n-A"  # another party's aircraft
        assert tracks["ICAO-AE1234"].get("type") == "a-f-A"  # the receiving party's own
        # the repo's own CoT reader reads the tracks back as canonical states
        from collections import Counter
        from xml.etree.ElementTree import tostring
        cols = parse_events([tostring(e) for e in rx.events], Counter())
        assert sorted(cols["callsign"]) == ["RCH123", "RFF90"]
        i = cols["callsign"].index("RFF90")
        assert cols["lat"][i] == pytest.approx(35.46) and cols["altitude"][i] == pytest.approx(21000 * 0.3048)
        assert not rx.bad
    finally:
        ch.close()
        rx.close()


def test_cot_tcp_listener_gone_then_back():
    rx = CoTListener()
    port = rx.port
    ch = open_channel(rx.url)
    try:
        ch.send(message("m1"))
        assert wait_for(lambda: rx.of_type("b-a"))
        rx.close()
        with pytest.raises(DeliveryError):
            ch.send(message("m2"))  # the closed connection is noticed before writing
        with pytest.raises(DeliveryError):
            ch.send(message("m2"))  # and nothing listens
        rx = CoTListener(port=port)
        ch.send(message("m2"))
        assert wait_for(lambda: rx.of_type("b-a"))
        assert rx.of_type("b-a")[0].find("detail/skyfence").get("message_id") == "m2"
    finally:
        ch.close()
        rx.close()


def test_log_channel_appends_json_lines(tmp_path):
    ch = open_channel(f"log:{tmp_path}/a/hot.jsonl")
    ch.send(message("m1"))
    ch.send(message("m2"))
    lines = (tmp_path / "a" / "hot.jsonl").read_text().splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["m1", "m2"]
