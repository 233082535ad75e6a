"""The hotline on the web: ``/api/hotline`` and ``/api/incidents/{id}/hotline`` over a real store with a real
hotline (two log channels), a party's officer seeing only its party's part; and on the page, the badge in the
bar and the parties in an incident's detail, an acknowledgement by the officer ending the wait."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest

from skyfence.agreement import load_agreement
from skyfence.hotline.service import Hotline
from skyfence.incidents import IncidentStore
from skyfence.web import WebContext
from skyfence.web.recording import Recording
from skyfence.web.users import Users
from tests.incident_stores import pg_database, pg_url  # noqa: F401
from tests.web_helpers import Page, Server, crossing_updates, make_recording

AGREEMENT = load_agreement("euphrates-2017")


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return Recording.load([make_recording(tmp_path_factory.mktemp("rec") / "small.parquet")], AGREEMENT)


def told(store, recording, tmp_path) -> tuple[Hotline, list[float], object]:
    """The three crossings of ``crossing_updates`` told to both parties on two log channels (each message goes out
    on both: two deliveries); nobody acknowledges."""
    store.apply(crossing_updates(recording))
    clock = [recording.start + 900.0]
    log = tmp_path / "hotline.jsonl"
    hot = Hotline(store, AGREEMENT, alert_channels=(f"log:{log}", f"log:{tmp_path / 'copy.jsonl'}"),
                  clock=lambda: clock[0])
    hot.open_channels()
    hot.step()
    clock[0] += 30  # past the group wait
    hot.step()
    for w in hot.workers.values():
        w.send_due()
    return hot, clock, log


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request, tmp_path, recording):
    url = str(tmp_path / "incidents.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    store = IncidentStore.open(url)
    hot, clock, log = told(store, recording, tmp_path)
    users = Users(store.engine)
    tokens = {"viewer": users.add("vera", "viewer"), "officer": users.add("oleg", "officer", "russia_syria"),
              "other": users.add("cora", "officer", "coalition")}
    srv = Server(WebContext(store=store, agreement=AGREEMENT, recording=recording))
    yield srv, tokens, store, hot, clock, log
    srv.stop()
    store.close()


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_hotline_status_and_an_incidents_messages(site):
    srv, tokens, store, hot, clock, log = site
    sent = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(sent) == 6  # three crossings, each told to both parties
    with httpx.Client(base_url=srv.url) as c:
        assert c.get("/api/hotline").status_code == 401
        st = c.get("/api/hotline", headers=auth(tokens["viewer"])).json()
        channel = next(ch for ch in st["channels"] if ch["channel"] == f"log:{log}")
        assert len(st["channels"]) == 2 and (channel["sent"], channel["pending"], channel["dead"]) == (6, 0, 0)
        assert st["totals"] == {"pending": 0, "sent": 12, "dead": 0}  # deliveries
        assert st["messages"] == {"pending": 0, "sent": 6, "dead": 0}
        # only the party whose aircraft it is must acknowledge; the counterpart is told
        assert [a["party"] for a in st["awaited"]] == ["russia_syria"] * 3
        assert all(a["contact_number"] == 1 and a["resends"] == 0 for a in st["awaited"])
        mine = c.get("/api/hotline", headers=auth(tokens["officer"])).json()  # a party's officer: its part
        assert mine["messages"]["sent"] == 3 and mine["totals"]["sent"] == 6 and len(mine["awaited"]) == 3
        theirs = c.get("/api/hotline", headers=auth(tokens["other"])).json()
        assert theirs["messages"]["sent"] == 3 and theirs["awaited"] == []

        inc = store.incidents(aircraft="RFF1021")[0]
        doc = c.get(f"/api/incidents/{inc.id}/hotline", headers=auth(tokens["viewer"])).json()
        assert [(t["party"], t["involved"]) for t in doc["parties"]] == [("russia_syria", True), ("coalition", False)]
        own = doc["parties"][0]
        assert own["contact"] == "Hmeimim operations duty officer" and own["contact_number"] == 1
        assert own["messages"] == 1 and not own["acknowledged"] and datetime.fromisoformat(own["ack_due"]).timestamp() == pytest.approx(clock[0] + 180, abs=31)
        texts = {m["party"]: m["text"] for m in doc["messages"]}
        assert texts["russia_syria"].startswith("[CROSSING] Your aircraft RFF1021")
        assert texts["coalition"].startswith("[CROSSING] A Russia and Syria aircraft, RFF1021")
        for m in doc["messages"]:  # one entry per message, with both its deliveries
            assert sorted(ch["channel"] for ch in m["channels"]) == sorted(c["channel"] for c in st["channels"])
            assert all((ch["status"], ch["attempts"], ch["last_error"]) == ("sent", 1, None) for ch in m["channels"])
        other = c.get(f"/api/incidents/{inc.id}/hotline", headers=auth(tokens["other"])).json()
        assert [t["party"] for t in other["parties"]] == ["coalition"] and len(other["messages"]) == 1
        assert c.get("/api/incidents/nope/hotline", headers=auth(tokens["viewer"])).status_code == 404

        # the officer acknowledges on the page's API: the hotline stops waiting for russia_syria
        assert c.post(f"/api/incidents/{inc.id}/ack", json={}, headers=auth(tokens["officer"])).status_code == 200
        hot.step()
        doc = c.get(f"/api/incidents/{inc.id}/hotline", headers=auth(tokens["viewer"])).json()
        assert doc["parties"][0]["acknowledged"] and doc["parties"][0]["ack_due"] is None
        st = c.get("/api/hotline", headers=auth(tokens["viewer"])).json()
        assert [a["party"] for a in st["awaited"]] == ["russia_syria"] * 2
        assert inc.id not in {a["incident_id"] for a in st["awaited"]}


def test_unanswered_is_resent_then_escalated_as_the_api_shows(site):
    srv, tokens, store, hot, clock, log = site
    inc = store.incidents(aircraft="SYR4410")[0]
    for _ in range(2):  # 3 min without an acknowledgement: re-sent; 3 more: the next contact
        clock[0] += 185
        hot.step()
        for w in hot.workers.values():
            w.send_due()
    with httpx.Client(base_url=srv.url) as c:
        doc = c.get(f"/api/incidents/{inc.id}/hotline", headers=auth(tokens["viewer"])).json()
    own = doc["parties"][0]
    assert own["party"] == "russia_syria" and own["messages"] == 3 and not own["acknowledged"]
    assert own["contact"] == "Hmeimim deputy commander" and own["contact_number"] == 2, own
    assert [m["type"] for m in doc["messages"] if m["party"] == "russia_syria"] == ["notification", "reminder",
                                                                                     "escalation"]
    assert doc["parties"][1]["party"] == "coalition" and doc["parties"][1]["messages"] == 1  # told once


def test_the_page_shows_the_hotline_and_an_acknowledgement_ends_the_wait(tmp_path, recording, browser):
    store = IncidentStore.open(tmp_path / "incidents.db")
    hot, clock, log = told(store, recording, tmp_path)
    hot.start()  # folds the officer's acknowledgement in, as `monitor --alert` runs it
    token = Users(store.engine).add("oleg", "officer", "russia_syria")
    srv = Server(WebContext(store=store, agreement=AGREEMENT, recording=recording))
    p = Page(browser, srv.url, token)
    try:
        badge = p.page.locator("#hotline")
        p.wait("document.getElementById('hotline').dataset.awaited === '3'")
        # the officer's party's part, in messages (each went out on two channels)
        assert badge.inner_text() == "hotline: 3 messages sent · 3 acks awaited"
        badge.click()
        assert "Hmeimim" not in p.page.inner_text("#hotline-panel")  # contacts are in the detail, channels here
        assert p.page.locator("#hotline-panel tr.ac-link").count() == 3
        ids = {i.id for i in store.incidents()}  # each awaited incident's id whole, to paste into `incidents show`
        shown = p.page.locator("#hotline-panel tr.ac-link code").all_inner_texts()
        assert len(shown) == 3 and set(shown) <= ids
        p.page.locator("#incidents li", has_text="RFF1022").click()
        row = p.page.locator("#hotline-parties tr[data-party=russia_syria]")
        row.wait_for()
        assert "awaited, due" in row.inner_text() and "Hmeimim operations duty officer" in row.inner_text()
        p.page.click("#hotline-detail details summary")
        assert "Your aircraft RFF1022" in p.page.inner_text("#hotline-detail details")
        # the actions come before the event's figures, which fold away
        assert p.js("!!(document.querySelector('#detail #ack').compareDocumentPosition("
                    "document.querySelector('#detail details.figures')) & Node.DOCUMENT_POSITION_FOLLOWING)")
        p.page.click("#detail #ack")
        p.wait("document.querySelector('#hotline-parties tr[data-party=russia_syria]')?.innerText.includes('acknowledged')",
               timeout=20)
        p.wait("document.getElementById('hotline').dataset.awaited === '2'", timeout=20)
        assert p.outside == [] and p.errors == []
    finally:
        p.close()
        srv.stop()
        hot.stop(drain=1)
        store.close()
