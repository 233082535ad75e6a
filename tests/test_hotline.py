"""The hotline end to end on a real store (SQLite file, and PostgreSQL where said), real webhook
receivers, a virtual clock for grouping and acknowledgement: who is told, how often, re-sent,
escalated, acknowledged by command and by the signed link, and the audit trail of each step."""

from __future__ import annotations

import copy
import time
from datetime import timedelta

import httpx
import pytest

from skyfence.agreement import load_agreement
from skyfence.hotline import outbox
from skyfence.hotline.ackserver import AckServer
from skyfence.hotline.receivers import WebhookReceiver
from skyfence.hotline.retry import Backoff
from skyfence.hotline.service import Hotline
from skyfence.incidents import IncidentStore
from tests.agreements import simple, write
from tests.hotline_helpers import SECRET
from tests.incident_stores import T0, crossing, encounter, pg_database, pg_url  # noqa: F401

ENV = {"SKYFENCE_WEBHOOK_SECRET": SECRET}


class Clock:
    def __init__(self, t: float = T0.timestamp()) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def receivers():
    rx = {"red": WebhookReceiver(SECRET), "red_chief": WebhookReceiver(SECRET), "blue": WebhookReceiver(SECRET)}
    yield rx
    for r in rx.values():
        r.close()


def agreement_with(tmp_path, rx, **hotline):
    doc = simple(hotline={"group_wait": "10 s", "repeat_interval": "2 min", **hotline})
    doc["parties"] = copy.deepcopy(doc["parties"])
    doc["parties"][1]["contacts"] = [
        {"name": "red duty", "channels": [rx["red"].url], "acknowledge_within": "3 min", "resend": 1},
        {"name": "red chief", "channels": [rx["red_chief"].url], "acknowledge_within": "5 min"}]
    doc["parties"][0]["contacts"] = [{"name": "blue duty", "channels": [rx["blue"].url]}]
    return load_agreement(write(tmp_path, doc))


def run(hotline: Hotline, clock: Clock, until: float, every: float = 5.0):
    while clock.t < until:
        clock.t += every
        hotline.step()
    for w in hotline.workers.values():
        w.send_due()


def texts(rx):
    return [r["body"]["message"] for r in rx.unique]


def test_both_parties_told_in_plain_words_after_the_group_wait(tmp_path, receivers):
    store = IncidentStore.open(tmp_path / "s.db")
    ag = agreement_with(tmp_path, receivers)
    clock = Clock()
    hot = Hotline(store, ag, clock=clock, env=ENV)
    hot.open_channels()
    store.apply([crossing("crossing_started", 0, "crossing", depth_km=3.1)])
    hot.step()
    for w in hot.workers.values():
        w.send_due()
    assert not receivers["red"].unique  # the group wait gathers what follows first
    run(hot, clock, T0.timestamp() + 12)
    (red,), (blue,) = receivers["red"].unique, receivers["blue"].unique
    assert red["body"]["party"] == "red" and red["body"]["involved"] and not blue["body"]["involved"]
    assert red["body"]["message"].startswith("[CROSSING] Your aircraft RF4B1 crossed the line ")
    assert "1.7 NM (3.1 km) deep, still inside" in red["body"]["message"]
    assert "2017-11-01 09:00:00 UTC" in red["body"]["message"] and " NM " in red["body"]["message"]
    assert blue["body"]["message"].startswith("[CROSSING] A Red aircraft, RF4B1, crossed the line")
    assert red["body"]["aircraft"] == [{"track_id": "4b1805", "callsign": "RF4B1", "party": "red"}]
    assert red["body"]["positions"]["4b1805"]["lat"] == pytest.approx(35.0)
    audit = [c.why for c in store.audit(red["body"]["incident_id"]) if c.who == "hotline"]
    assert audit == ["told red (red duty); told blue (blue duty)"]
    hot.stop()
    store.close()


def test_a_first_hotline_on_a_store_with_a_history_tells_what_is_open_not_what_is_over(tmp_path, receivers):
    """Started on a store a monitor had filled, the hotline sent every past incident, long resolved ones
    included (user trial); a hotline restarted on its store goes on from where it was."""
    store = IncidentStore.open(tmp_path / "s.db")
    ag = agreement_with(tmp_path, receivers)
    over, still = crossing("crossing_started", 0, "crossing"), crossing("crossing_started", 0, "crossing",
                                                                       track_id="4b1806")
    store.apply([over, still, crossing("crossing_ended", 60, "crossing", ended=True)])
    store.resolve(over.incident_id, by="ops", why="seen", at=T0 + timedelta(seconds=90))
    late = crossing("crossing_started", 30, "crossing", track_id="4b1807")
    store.apply([late])
    clock = Clock(T0.timestamp() + 120)
    hot = Hotline(store, ag, clock=clock, env=ENV)
    hot.open_channels()
    # open when the hotline started, resolved before its first round: it is news, told whole
    store.resolve(late.incident_id, by="ops", why="seen", at=T0 + timedelta(seconds=121))
    run(hot, clock, clock.t + 30)
    told = {r["body"]["incident_id"]: r["body"]["status"] for r in receivers["blue"].unique}
    assert told == {still.incident_id: "open", late.incident_id: "resolved"}
    hot.stop()
    store.resolve(still.incident_id, by="ops", why="seen", at=T0 + timedelta(seconds=clock.t - T0.timestamp()))
    # (while no hotline runs)
    again = Hotline(store, ag, clock=clock, env=ENV)
    again.open_channels()
    run(again, clock, clock.t + 150)  # past the repeat interval (2 min)
    told = [r["body"]["status"] for r in receivers["blue"].unique if r["body"]["incident_id"] == still.incident_id]
    assert told == ["open", "resolved"]
    again.stop()
    store.close()


def test_a_flapping_encounter_sends_a_handful_not_a_hundred(tmp_path, receivers):
    store = IncidentStore.open(tmp_path / "s.db")
    ag = agreement_with(tmp_path, receivers)
    clock = Clock()
    hot = Hotline(store, ag, clock=clock, env=ENV)
    hot.open_channels()
    # ten minutes flapping between caution and warning every 5 s: 120 updates
    for k in range(120):
        clock.t = T0.timestamp() + 5 * k
        store.apply([encounter("level_changed", 5 * k, "warning" if k % 2 else "caution")])
        hot.step()
    for w in hot.workers.values():
        w.send_due()
    n = len(receivers["blue"].unique)
    # the first after the 10 s wait (caution), the rise to warning at once, then one per 2 min repeat interval
    assert 5 <= n <= 7, texts(receivers["blue"])
    # red, involved and not acknowledging, also had a reminder and was escalated to its chief meanwhile
    red = receivers["red"].unique + receivers["red_chief"].unique
    types = [r["body"]["type"] for r in red]
    assert types.count("reminder") == 1 and types.count("escalation") == 1 and n - 1 <= len(red) <= n + 1
    hot.stop()
    store.close()


def test_not_acknowledged_resent_then_escalated_and_the_audit_says_so(tmp_path, receivers):
    store = IncidentStore.open(tmp_path / "s.db")
    ag = agreement_with(tmp_path, receivers)
    clock = Clock()
    hot = Hotline(store, ag, clock=clock, env=ENV)
    hot.open_channels()
    [change] = store.apply([crossing("crossing_started", 0, "crossing")])
    run(hot, clock, T0.timestamp() + 15)  # told
    run(hot, clock, T0.timestamp() + 15 + 181)  # 3 min: re-sent to the duty officer
    assert [r["body"]["type"] for r in receivers["red"].unique] == ["notification", "reminder"]
    assert receivers["red"].unique[1]["body"]["message"].startswith("REMINDER, not acknowledged within 3 min")
    assert not receivers["red_chief"].unique
    run(hot, clock, T0.timestamp() + 15 + 362)  # another 3 min: escalated to the chief
    (esc,) = receivers["red_chief"].unique
    assert esc["body"]["type"] == "escalation" and esc["body"]["contact"] == "red chief"
    assert esc["body"]["message"].startswith("ESCALATED, red duty did not acknowledge within 3 min: [CROSSING]")
    # blue, the counterpart, was told once and is not chased
    assert [r["body"]["type"] for r in receivers["blue"].unique] == ["notification"]
    # the chief acknowledges by command: nothing more is chased
    store.acknowledge(change.incident_id, by="Col. Petrov", party="red")
    run(hot, clock, T0.timestamp() + 3600)
    assert len(receivers["red_chief"].unique) == 1 and len(receivers["red"].unique) == 2
    audit = [(c.who, c.action, c.why) for c in store.audit(change.incident_id)]
    hotline_steps = [why for who, _, why in audit if who == "hotline"]
    assert hotline_steps == ["told red (red duty); told blue (blue duty)",
                             "re-sent to red (red duty): not acknowledged within 3 min",
                             "escalated for red from red duty to red chief: not acknowledged within 3 min"]
    assert ("Col. Petrov", "acknowledged") in [(who, action) for who, action, _ in audit]
    hot.stop()
    store.close()


def test_no_one_left_to_escalate_to_is_recorded_once(tmp_path, receivers):
    store = IncidentStore.open(tmp_path / "s.db")
    ag = agreement_with(tmp_path, receivers)
    clock = Clock()
    hot = Hotline(store, ag, clock=clock, env=ENV)
    hot.open_channels()
    [change] = store.apply([crossing("crossing_started", 0, "crossing")])
    run(hot, clock, T0.timestamp() + 7200, every=30)
    steps = [c.why for c in store.audit(change.incident_id) if c.who == "hotline"]
    assert steps[-1] == "red has not acknowledged and no contact is left to escalate to"
    assert sum("no contact is left" in s for s in steps) == 1
    # the chief: the escalation and one re-send (resend is 1 by default), then nobody is left
    assert [r["body"]["type"] for r in receivers["red_chief"].unique] == ["escalation", "reminder"]
    hot.stop()
    store.close()


@pytest.fixture
def linked(tmp_path, receivers):
    """A store, a hotline on a virtual clock whose messages carry acknowledgement links, and the link server:
    (store, hotline, clock, ack server)."""
    store = IncidentStore.open(tmp_path / "s.db")
    ag = agreement_with(tmp_path, receivers)
    clock = Clock()
    ack = AckServer(store).start()
    hot = Hotline(store, ag, clock=clock, env=ENV, ack_base=ack.base_url)
    hot.open_channels()
    yield store, hot, clock, ack
    hot.stop()
    ack.close()
    store.close()


def test_acknowledged_with_the_signed_one_time_link(linked, receivers):
    store, hot, clock, ack = linked
    [change] = store.apply([crossing("crossing_started", 0, "crossing")])
    run(hot, clock, T0.timestamp() + 15)
    url = receivers["red"].unique[0]["body"]["ack_url"]
    assert url.startswith(ack.base_url + "/ack/")
    assert receivers["blue"].unique[0]["body"]["ack_url"] is None  # the counterpart has nothing to acknowledge
    page = httpx.get(url)  # the page: what it is about and a button, no acknowledgement yet
    assert page.status_code == 200 and f"[CROSSING] crossing {change.incident_id}" in page.text
    assert "acknowledging for red" in page.text
    assert "red" not in store.get(change.incident_id).acks
    token = url.rsplit("/", 1)[1]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert httpx.post(url.replace(token, forged), json={"by": "x"}).status_code == 403
    r = httpx.post(url, json={"by": "Maj. Orlov"})
    assert r.status_code == 200 and f"acknowledged incident {change.incident_id} for red" in r.text
    assert httpx.post(url, json={"by": "again"}).status_code == 409  # one time only
    assert store.get(change.incident_id).acks["red"][0] == "Maj. Orlov"
    run(hot, clock, T0.timestamp() + 3600)
    assert len(receivers["red"].unique) == 1 and not receivers["red_chief"].unique  # nothing chased


def test_a_link_from_before_a_rise_does_not_acknowledge_the_higher_severity(linked, receivers):
    """A rise asks for a new acknowledgement: the link of the earlier, lower message must not give it (user
    trial: an old link acknowledged a deep crossing)."""
    store, hot, clock, ack = linked
    [change] = store.apply([crossing("crossing_started", 0, "crossing")])
    run(hot, clock, T0.timestamp() + 15)
    old = receivers["red"].unique[0]["body"]["ack_url"]
    store.apply([crossing("crossing_started", 30, "deep_crossing", depth_km=14.0)])
    r = httpx.post(old, json={"by": "Capt Old Link"})
    assert r.status_code == 409 and "risen to deep crossing" in r.text
    assert "red" not in store.get(change.incident_id).acks
    run(hot, clock, T0.timestamp() + 60)
    new = receivers["red"].unique[-1]["body"]
    assert new["severity"] == "deep_crossing" and new["ack_url"] != old
    assert httpx.post(new["ack_url"], json={"by": "Maj. Orlov"}).status_code == 200
    assert store.get(change.incident_id).acks["red"][0] == "Maj. Orlov"


def test_links_carry_an_address_the_other_centre_can_reach(tmp_path, receivers, monkeypatch):
    """Listening on every interface gave links to 127.0.0.1, which the other party's machine is not (user trial);
    --ack-url gives the address they reach it by."""
    from skyfence.hotline.runner import start_hotline

    monkeypatch.setenv("SKYFENCE_WEBHOOK_SECRET", SECRET)
    store = IncidentStore.open(tmp_path / "s.db")
    wide = AckServer(store, "0.0.0.0", 0)
    assert "127.0.0.1" not in wide.base_url and wide.base_url.endswith(f":{wide.port}")
    wide.server.server_close()
    ag = agreement_with(tmp_path, receivers, group_wait="0 s")
    hot, ack = start_hotline(store, ag, (), "127.0.0.1:0", ack_url="https://hotline.example.org/sky/")
    try:
        store.apply([crossing("crossing_started", 0, "crossing")])
        for _ in range(100):
            if receivers["red"].unique:
                break
            time.sleep(0.1)
        url = receivers["red"].unique[0]["body"]["ack_url"]
        assert url.startswith("https://hotline.example.org/sky/ack/")
        # the token itself is the same: it acknowledges on the server listening
        assert httpx.post(ack.base_url + "/ack/" + url.rsplit("/", 1)[1], json={"by": "x"}).status_code == 200
    finally:
        hot.stop()
        ack.close()
        store.close()


def test_stopping_sends_what_waits_to_be_grouped(tmp_path, receivers):
    """A monitor stopped within a group wait left the last updates unsent, resolutions too, until the next hotline
    run (user trial): the stop sends them."""
    store = IncidentStore.open(tmp_path / "s.db")
    ag = agreement_with(tmp_path, receivers, group_wait="5 min")
    hot = Hotline(store, ag, env=ENV).start()
    try:
        store.apply([crossing("crossing_started", 0, "crossing"), crossing("crossing_ended", 90, "crossing",
                                                                            ended=True)])
    finally:
        hot.stop(drain=10)
        store.close()
    got = receivers["red"].unique
    assert len(got) == 1 and got[0]["body"]["event"] == "crossing_ended"  # one message: the group, as it stands
    assert len(receivers["blue"].unique) == 1


def test_webhook_500_then_200_loses_nothing_keeps_order_and_ids(tmp_path, receivers):
    receivers["red"].answers = [500, 500, 500]
    store = IncidentStore.open(tmp_path / "s.db")
    ag = agreement_with(tmp_path, receivers, group_wait="0 s", repeat_interval="0 s")
    hot = Hotline(store, ag, env=ENV, backoff=Backoff(first=0.05, cap=0.2, attempts=20)).start()
    try:
        for k, ev in enumerate(["crossing_warning", "crossing_started", "crossing_ended"]):
            sev = "warning" if k == 0 else "crossing"
            store.apply([crossing(ev, 10 * k, sev, ended=ev == "crossing_ended"),
                         crossing(ev, 10 * k, sev, track_id="4b1806", ended=ev == "crossing_ended")])
            hot.step()
        from tests.hotline_helpers import wait_for
        assert wait_for(lambda: not outbox.listing(store.engine, status="pending"), timeout=30)
        rows = outbox.listing(store.engine, status="sent")
        red_ids = [r.id for r in rows if r.channel == receivers["red"].url]
        got = [r["id"] for r in receivers["red"].unique]
        assert sorted(got) == sorted(red_ids) and len(set(got)) == len(got)
        # a failed attempt was retried under the same id
        retried = {r["id"] for r in receivers["red"].received if r["code"] == 500}
        assert retried and retried <= set(got)
        # in order per incident: each incident's events arrived in the order they happened
        order = {"crossing_warning": 0, "crossing_started": 1, "crossing_ended": 2}
        for inc in {r["body"]["incident_id"] for r in receivers["red"].unique}:
            seq = [order[r["body"]["event"]] for r in receivers["red"].unique if r["body"]["incident_id"] == inc]
            assert seq == sorted(seq)
    finally:
        hot.stop()
        store.close()


def test_dead_letter_after_n_attempts_then_resend(tmp_path, receivers):
    receivers["red"].answers = [503] * 3
    store = IncidentStore.open(tmp_path / "s.db")
    ag = agreement_with(tmp_path, receivers, group_wait="0 s")
    hot = Hotline(store, ag, env=ENV, backoff=Backoff(first=0.01, cap=0.01, attempts=3))
    hot.open_channels()
    store.apply([crossing("crossing_started", 0, "crossing")])
    hot.step()
    red = hot.workers[receivers["red"].url]
    for _ in range(50):
        red.send_due()
        if outbox.listing(store.engine, status="dead"):
            break
        import time
        time.sleep(0.02)
    (dead,) = outbox.listing(store.engine, status="dead")
    assert dead.attempts == 3 and dead.last_error == "HTTP 503" and not receivers["red"].unique
    assert outbox.resend(store.engine, [dead.id]) == 1
    red.send_due()
    assert [r["id"] for r in receivers["red"].unique] == [dead.id]  # the same id, now delivered
    assert outbox.listing(store.engine, status="dead") == []
    hot.stop()
    store.close()


def test_on_postgresql_too(pg_url, tmp_path, receivers):
    store = IncidentStore.open(pg_url)
    ag = agreement_with(tmp_path, receivers, group_wait="0 s")
    clock = Clock()
    hot = Hotline(store, ag, clock=clock, env=ENV)
    hot.open_channels()
    store.apply([encounter("level_changed", 0, "loss")])
    run(hot, clock, T0.timestamp() + 5)
    assert len(receivers["red"].unique) == 1 and len(receivers["blue"].unique) == 1
    body = receivers["blue"].unique[0]["body"]
    assert body["message"].startswith("[LOSS] Your aircraft RCH22 and a Red aircraft, RFF01: separation LOSS")
    hot.stop()
    store.close()


def test_a_rise_in_severity_after_the_acknowledgement_is_chased_again(tmp_path, receivers):
    store = IncidentStore.open(tmp_path / "s.db")
    ag = agreement_with(tmp_path, receivers)
    clock = Clock()
    hot = Hotline(store, ag, clock=clock, env=ENV)
    hot.open_channels()
    [change] = store.apply([crossing("crossing_started", 0, "crossing")])
    run(hot, clock, T0.timestamp() + 15)
    store.acknowledge(change.incident_id, by="duty", party="red")
    run(hot, clock, T0.timestamp() + 600)
    assert [r["body"]["type"] for r in receivers["red"].unique] == ["notification"]
    store.apply([crossing("crossing_ended", 700, "deep_crossing", ended=True, depth_km=15.0)])
    clock.t = T0.timestamp() + 700
    run(hot, clock, T0.timestamp() + 700 + 190)
    types = [r["body"]["type"] for r in receivers["red"].unique]
    assert types == ["notification", "notification", "reminder"]  # told at once, then chased again
    assert receivers["red"].unique[1]["body"]["message"].startswith("[DEEP CROSSING]")
    hot.stop()
    store.close()


def test_migration_creates_the_tables_the_code_uses(tmp_path):
    import sqlalchemy as sa

    from skyfence.hotline.tables import metadata
    from skyfence.incidents import migrations

    store = IncidentStore.open(tmp_path / "s.db")
    try:
        with store.engine.connect() as conn:
            assert migrations.current(conn) == migrations.head()
            inspector = sa.inspect(conn)
            for table in metadata.tables.values():
                got = {c["name"] for c in inspector.get_columns(table.name)}
                assert got == {c.name for c in table.columns}, table.name
            # the 0002 revision chains on the store's and downgrades cleanly
            migrations.upgrade(conn)
    finally:
        store.close()
    from alembic.script import ScriptDirectory

    rev = ScriptDirectory.from_config(migrations.config()).get_revision("0002_hotline")
    assert rev.down_revision == "0001_incidents"
