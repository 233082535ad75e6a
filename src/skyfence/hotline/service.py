"""The hotline at work: follows the store's changes, decides what each party is told and when (route,
group, escalate), puts messages in the outbox in the same transaction that moves its place in the
change log forward, and sends them from one worker per channel (retry, dead letter).

The hotline's clock (``clock``) times grouping and acknowledgement: the wall clock live, data time in a
replay or the demo. Sending and its retries always run on the wall clock.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa

from skyfence.incidents.database import writing
from skyfence.incidents.tables import changes as store_changes

from skyfence.agreement.model import Agreement
from skyfence.incidents.errors import StoreError
from skyfence.hotline import escalate, group, outbox, route, templates, tokens
from skyfence.hotline.channels import open_channel
from skyfence.hotline.message import message_body
from skyfence.hotline.places import describe_position
from skyfence.hotline.retry import Backoff
from skyfence.hotline.send import ChannelWorker
from skyfence.hotline.severity import rank
from skyfence.hotline.tables import state, threads
from skyfence.hotline.urls import parse_channel

log = logging.getLogger("skyfence.hotline")
WHO = "hotline"
ACTIONS = ("opened", "updated", "severity_raised", "reopened", "resolved")


@dataclass
class StepReport:
    changes: int = 0
    messages: int = 0
    reminders: int = 0
    escalations: int = 0
    audit: list[tuple[str, str]] = field(default_factory=list)


def _send_engine(engine: sa.Engine) -> sa.Engine:
    """The engine the senders mark messages with. On SQLite a connection of its own without an fsync per
    commit (WAL with synchronous=NORMAL: a commit survives the process being killed, and after a power
    cut a message may go once more, under its own id); elsewhere the store's engine."""
    if engine.dialect.name != "sqlite":
        return engine
    from sqlalchemy import event

    from skyfence.incidents.database import create_engine

    eng = create_engine(engine.url)

    @event.listens_for(eng, "connect")
    def _normal(dbapi, _record) -> None:
        cur = dbapi.cursor()
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return eng


def _iso(t) -> str | None:
    from skyfence.incidents.model import iso

    return iso(t)


class Hotline:
    """Tell each party, make sure it was heard. ``step(now)`` does one round by hand (tests, the demo);
    ``start()`` runs it in the background, woken by every change the store commits."""

    def __init__(self, store, agreement: Agreement, *, alert_channels: tuple[str, ...] = (),
                 clock: Callable[[], float] = time.time, ack_base: str | None = None, backoff: Backoff = Backoff(),
                 env: dict | None = None, poll: float = 0.25,
                 on_sent: Callable[[sa.Row, float], None] | None = None) -> None:
        self.store, self.agreement = store, agreement
        self.engine: sa.Engine = store.engine
        self.extra = tuple(parse_channel(c).text for c in alert_channels)
        self.clock, self.ack_base, self.backoff, self.env, self.poll = clock, ack_base, backoff, env, poll
        self.on_sent = on_sent
        self.settings = agreement.hotline
        self.send_engine = _send_engine(self.engine)
        self.workers: dict[str, ChannelWorker] = {}
        self._secret_env: dict[str, str | None] = {}
        for party in agreement.parties:
            for c in party.contacts:
                for ch in c.channels:
                    self._secret_env.setdefault(ch, c.secret_env)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False  # senders running (start)
        self._lock = threading.Lock()
        self.errors = 0
        with writing(self.engine) as conn:
            # the last store change before the first hotline on this store started (0: one ran before)
            self.history_until = self._history_until(conn)

    # -- channels ---------------------------------------------------------------------------
    def channels(self) -> list[str]:
        """Every channel the configuration names (agreement contacts and --alert)."""
        names = list(self.extra)
        for party in self.agreement.parties:
            for c in party.contacts:
                names.extend(c.channels)
        return list(dict.fromkeys(names))

    def open_channels(self) -> None:
        """Open a worker for every configured channel and every channel with messages still waiting."""
        for name in [*self.channels(), *outbox.pending_channels(self.engine)]:
            self._worker(name)

    def _worker(self, name: str) -> ChannelWorker:
        w = self.workers.get(name)
        if w is None:
            ch = open_channel(name, secret_env=self._secret_env.get(name), env=self.env)
            w = self.workers[name] = ChannelWorker(self.send_engine, ch, self.backoff, on_sent=self.on_sent)
            if self._started:
                w.start()
        return w

    # -- one round --------------------------------------------------------------------------
    def step(self, now: float | None = None, flush: bool = False) -> StepReport:
        """Fold the store's new changes in, send what grouping lets go, run the acknowledgement clocks; with
        ``flush`` (the hotline stopping), every waiting update goes now rather than at the end of its grouping."""
        with self._lock:
            now = self.clock() if now is None else now
            report = StepReport()
            with writing(self.engine) as conn:
                cursor = int(conn.execute(sa.select(state.c.value).where(state.c.name == "cursor")).scalar() or 0)
                read = self.store.changes_since(cursor, 1000)
                changes = self._past_left_out(conn, read)
                touched = {c.incident_id for c in changes}
                rows = {(r.incident_id, r.party): dict(r._mapping) for r in conn.execute(
                    sa.select(threads).where(sa.or_(threads.c.pending_seq.is_not(None), threads.c.ack_due <= now,
                                                    threads.c.incident_id.in_(touched))))}
                before = {k: dict(v) for k, v in rows.items()}
                incidents: dict[str, object] = {}
                for change in changes:
                    self._fold(change, rows, now)
                    incidents[change.incident_id] = change.incident  # the latest snapshot of each
                report.changes = len(changes)
                out: list[dict] = []
                for key, t in rows.items():
                    if t["pending_seq"] is None and (t["ack_due"] is None or now < t["ack_due"]):
                        continue
                    inc = self._incident(key[0], incidents)
                    if inc is None:
                        continue
                    if t["pending_seq"] is not None and flush or group.due(
                            t["pending_since"], t["last_sent_at"], t["sent_rank"], rank(inc.severity), now,
                            self.settings):
                        self._notify(conn, t, inc, now, out, report)
                    elif t["ack_due"] is not None and now >= t["ack_due"]:
                        self._ack_overdue(conn, t, inc, now, out, report)
                outbox.enqueue(conn, out)
                for key, t in rows.items():
                    if t != before.get(key):
                        self._save(conn, t)
                if read:
                    self._set_cursor(conn, read[-1].seq)
            at = datetime.fromtimestamp(now, timezone.utc)
            notes: dict[str, list[str]] = {}
            for incident_id, text in report.audit:
                notes.setdefault(incident_id, []).append(text)
            for incident_id, texts in notes.items():  # after the messages are safely in the outbox; one a step
                try:
                    self.store.comment(incident_id, WHO, "; ".join(texts), at=at)
                except Exception as exc:  # the audit note is not worth stopping the hotline for
                    log.warning("hotline audit note on %s: %s", incident_id, exc)
            for name in {r["channel"] for r in out}:
                self._worker(name).wake.set()
            return report

    def _fold(self, change, rows: dict, now: float) -> None:
        inc = change.incident
        if change.action not in ACTIONS and change.action != "acknowledged":
            return
        for party, involved in route.recipients(self.agreement, inc):
            t = rows.get((inc.id, party))
            if t is None:
                t = rows[(inc.id, party)] = {
                    "incident_id": inc.id, "party": party, "involved": involved, "contact_index": None,
                    "pending_seq": None, "pending_since": None, "last_sent_at": None, "sent_rank": -1,
                    "acked": False, "ack_due": None, "resends": 0, "messages": 0, "last_text": None, "_new": True}
            t["involved"] = involved
            was = t["acked"]
            t["acked"] = party in inc.acks  # the store clears acknowledgements when the severity rises
            if t["acked"]:
                t["ack_due"] = None
            elif was:
                t["resends"] = 0  # to be chased again, from the contact that acknowledged
            if change.action == "acknowledged":
                continue
            t["pending_seq"] = change.seq
            if t["pending_since"] is None:
                t["pending_since"] = now

    def _incident(self, incident_id: str, cache: dict):
        if incident_id not in cache:
            cache[incident_id] = self.store.get(incident_id)
        return cache[incident_id]

    def _message(self, conn, t: dict, inc, contact_index: int, type_: str, text: str, now: float, out: list,
                 seq: int | None = None) -> int:
        """Queue one message to the thread's contact on each of its channels; returns how many channels.
        ``seq``: the latest store change the message tells of."""
        contacts = route.contacts_of(self.agreement, t["party"], self.extra)
        contact = contacts[contact_index]
        chans = route.channels_of(contact, self.extra)
        if not chans:
            return 0
        msg_id = f"msg_{secrets.token_hex(12)}"
        ack_url = None
        if self.ack_base and t["involved"] and inc.status != "resolved" and t["party"] not in inc.acks:
            ack_url = f"{self.ack_base.rstrip('/')}/ack/{tokens.issue(conn, inc.id, t['party'], msg_id)}"
        from skyfence.incidents.model import incident_json

        body = message_body(message_id=msg_id, type_=type_, incident=incident_json(inc), event=inc.last_event,
                            time=_iso(inc.last_update_time or inc.updated_at), party=t["party"],
                            involved=t["involved"], contact=contact.name, text=text,
                            place=describe_position(inc.lat, inc.lon), ack_url=ack_url)
        body["positions"] = self._positions(inc.id)
        import json

        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        for ch in chans:
            out.append({"id": msg_id, "channel": ch, "incident_id": inc.id, "party": t["party"],
                        "contact": contact.name, "type": type_, "change_seq": seq, "body": data})
        t["messages"] += 1
        t["last_text"] = text
        return len(chans)

    def _positions(self, incident_id: str) -> dict:
        track = getattr(self.store, "track", None)
        if track is None:
            return {}
        last: dict = {}
        for p in track(incident_id):
            if p.track_id not in last or p.time > last[p.track_id].time:
                last[p.track_id] = p
        return {k: {"lat": p.lat, "lon": p.lon, "alt_ft": p.alt_ft, "time": _iso(p.time)} for k, p in last.items()}

    def _notify(self, conn, t: dict, inc, now: float, out: list, report: StepReport) -> None:
        contacts = route.contacts_of(self.agreement, t["party"], self.extra)
        if t["contact_index"] is None:
            t["contact_index"] = route.first_contact(contacts, inc.kind, inc.severity)
        seq = t["pending_seq"]
        t["pending_seq"] = t["pending_since"] = None
        if t["contact_index"] is None:
            return  # nobody at this party wants it (yet): a rise in severity may change that
        text = self._render(inc, t["party"])
        first = t["messages"] == 0
        if self._message(conn, t, inc, t["contact_index"], "notification", text, now, out, seq):
            report.messages += 1
            if first:
                report.audit.append((inc.id, f"told {t['party']} ({contacts[t['contact_index']].name})"))
        t["last_sent_at"] = now
        t["sent_rank"] = max(t["sent_rank"], rank(inc.severity))
        if inc.status == "resolved" or not t["involved"] or t["acked"]:
            t["ack_due"] = None
        elif t["ack_due"] is None:
            t["ack_due"] = now + contacts[t["contact_index"]].acknowledge_within

    def _ack_overdue(self, conn, t: dict, inc, now: float, out: list, report: StepReport) -> None:
        if inc.status == "resolved" or t["party"] in inc.acks or t["contact_index"] is None:
            t["ack_due"] = None
            return
        contacts = route.contacts_of(self.agreement, t["party"], self.extra)
        current = contacts[t["contact_index"]]
        step = escalate.next_step(contacts, t["contact_index"], t["resends"], inc.kind, inc.severity)
        # the reminder or escalation tells the incident as it stands now, and stands for any update waiting
        base = self._render(inc, t["party"])
        if step.action != "exhausted":
            t["pending_seq"] = t["pending_since"] = None
            t["last_sent_at"] = now
            t["sent_rank"] = max(t["sent_rank"], rank(inc.severity))
        if step.action == "resend":
            t["resends"] += 1
            self._message(conn, t, inc, t["contact_index"], "reminder",
                          templates.reminder(base, current.name, current.acknowledge_within), now, out)
            t["ack_due"] = now + current.acknowledge_within
            report.reminders += 1
            report.audit.append((inc.id, f"re-sent to {t['party']} ({current.name}): not acknowledged within "
                                         f"{templates.duration(current.acknowledge_within)}"))
        elif step.action == "escalate":
            nxt = contacts[step.contact_index]
            t["contact_index"], t["resends"] = step.contact_index, 0
            self._message(conn, t, inc, step.contact_index, "escalation",
                          templates.escalation(base, current.name, current.acknowledge_within), now, out)
            t["ack_due"] = now + nxt.acknowledge_within
            report.escalations += 1
            report.audit.append((inc.id, f"escalated for {t['party']} from {current.name} to {nxt.name}: not "
                                         f"acknowledged within {templates.duration(current.acknowledge_within)}"))
        else:
            t["ack_due"] = None
            report.audit.append((inc.id, f"{t['party']} has not acknowledged and no contact is left to escalate to"))

    def _render(self, inc, party: str) -> str:
        ag = self.agreement
        return templates.render(inc, party, {p.id: p.name for p in ag.parties}, ag.line_name,
                                {a.id: a.name for a in ag.areas})

    def _save(self, conn, t: dict) -> None:
        values = {k: v for k, v in t.items() if not k.startswith("_")}
        if t.pop("_new", False):
            conn.execute(threads.insert().values(**values))
        else:
            conn.execute(threads.update().where(threads.c.incident_id == t["incident_id"],
                                                threads.c.party == t["party"]).values(**values))

    def _past_left_out(self, conn, changes: list) -> list:
        """The changes to fold in, less the history a first hotline on a store found there: the changes up to
        then of the incidents already resolved then (every party would be told of every past incident). One
        resolved later is told whole."""
        until = self.history_until
        if not changes or changes[0].seq > until:
            return changes
        ids = sorted({c.incident_id for c in changes if c.seq <= until})
        last = sa.select(store_changes.c.incident_id, sa.func.max(store_changes.c.seq).label("seq")).where(
            store_changes.c.incident_id.in_(ids), store_changes.c.seq <= until).group_by(
            store_changes.c.incident_id).subquery()
        then = conn.execute(sa.select(store_changes.c.incident_id, store_changes.c.incident).join(
            last, store_changes.c.seq == last.c.seq)).all()
        over = {i for i, snapshot in then if snapshot.get("status") == "resolved"}
        return [c for c in changes if c.seq > until or c.incident_id not in over]

    def _history_until(self, conn) -> int:
        """The last store change before the first hotline on this store started (0 when one ran before this was
        kept: it goes on from its cursor as it did)."""
        value = conn.execute(sa.select(state.c.value).where(state.c.name == "history_until")).scalar()
        if value is None:
            ran = conn.execute(sa.select(state.c.value).where(state.c.name == "cursor")).scalar() is not None
            last = conn.execute(sa.select(sa.func.coalesce(sa.func.max(store_changes.c.seq), 0))).scalar_one()
            value = "0" if ran else str(last)
            conn.execute(state.insert().values(name="history_until", value=value))
        return int(value)

    def _set_cursor(self, conn, seq: int) -> None:
        if conn.execute(state.update().where(state.c.name == "cursor").values(value=str(seq))).rowcount == 0:
            conn.execute(state.insert().values(name="cursor", value=str(seq)))

    # -- running in the background ------------------------------------------------------------
    def next_wake(self) -> float | None:
        """On the hotline's clock, when a waiting update or an acknowledgement time next falls due."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(threads.c.pending_since, threads.c.last_sent_at, threads.c.ack_due).where(
                sa.or_(threads.c.pending_seq.is_not(None), threads.c.ack_due.is_not(None)))).all()
        times = [x for r in rows for x in (group.wake_at(r.pending_since, r.last_sent_at, self.settings), r.ack_due)
                 if x is not None]
        return min(times) if times else None

    def start(self, stepping: bool = True) -> "Hotline":
        """Open the channels and start their senders; with ``stepping``, a thread runs :meth:`step` as the store
        changes and clocks fall due. Without it the caller steps (a replay steps at each tick of the data's
        clock, so that grouping, reminders and escalations do not depend on how fast the replay ran)."""
        self.open_channels()
        for w in self.workers.values():
            w.start()
        self._started = True
        if not stepping:
            return self
        self._thread = threading.Thread(target=self._run, name="hotline", daemon=True)
        subscribe = getattr(self.store, "subscribe", None)
        if subscribe is not None:
            subscribe(lambda change: self._wake.set())
        self._thread.start()
        return self

    def round(self) -> None:
        """One :meth:`step`; a store away for now is counted, logged, and tried again at the next round."""
        try:
            self.step()
        except (sa.exc.OperationalError, StoreError) as exc:
            self.errors += 1
            log.warning("hotline: %s", str(exc).splitlines()[0])

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self.round()
            self._wake.wait(self.poll)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is due to send (what waits for a retry later is left); True when drained."""
        end = time.time() + timeout
        while time.time() < end:
            busy = False
            for name, w in list(self.workers.items()):
                if outbox.due(self.engine, name):
                    busy = True
                    w.wake.set()
            if not busy:
                return True
            time.sleep(0.05)
        return False

    def stop(self, drain: float = 5.0) -> None:
        """Finish the round, send every update still waiting to be grouped and what is due (up to ``drain`` s), stop
        the workers; nothing waiting is lost (what could not be sent is sent by the next run)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._started:
            self.step(flush=True)
        if drain > 0 and self.workers:
            if not self._started:
                for w in self.workers.values():
                    w.send_due()
            else:
                self.drain(drain)
        for w in self.workers.values():
            w.stop()
        if self.send_engine is not self.engine:
            self.send_engine.dispose()
