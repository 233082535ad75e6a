"""Several writers on one store: two processes applying the same stream at once (two monitors on
one recording, or one restarted while the old one still runs) leave each change once, as one run
would; a follower polling ``changes_since`` meanwhile sees every change, in order, none skipped;
two processes opening a new store at once migrate it once."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from skyfence.incidents import IncidentStore, migrations
from tests.incident_stores import T0, pg_database, pg_url, store_url  # noqa: F401
from tests.incident_writer import stream
from tests.test_incident_durability import _content

ROOT = Path(__file__).resolve().parents[1]


def test_two_writers_and_a_follower(store_url, tmp_path):
    IncidentStore.open(store_url).close()  # migrated before the race (the race to migrate is below)
    seen: list = []
    stop = threading.Event()

    def follow():
        with IncidentStore.open(store_url) as store:
            last = 0
            while True:
                done = stop.is_set()
                page = store.changes_since(last, 50)
                seen.extend(page)
                if page:
                    last = page[-1].seq
                elif done:
                    return
                else:
                    time.sleep(0.005)

    follower = threading.Thread(target=follow)
    follower.start()
    procs = [subprocess.Popen([sys.executable, "-m", "tests.incident_writer", store_url], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and out.rstrip().endswith("done"), err
    stop.set()
    follower.join(timeout=60)
    with IncidentStore.open(store_url) as store:
        everything = store.changes_since(0, limit=10**6)
        got = _content(store)
    assert [c.seq for c in seen] == [c.seq for c in everything]  # none skipped, in order
    assert [c.seq for c in seen] == sorted({c.seq for c in seen})
    with IncidentStore.open(tmp_path / "one.db") as one:
        for batch in stream():
            one.apply(batch, T0)
        assert got == _content(one)


def test_two_processes_migrate_a_new_store_once(store_url):
    code = "import sys; from skyfence.incidents import IncidentStore; IncidentStore.open(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code, store_url], cwd=ROOT, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with IncidentStore.open(store_url) as store, store.engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1


def test_threads_sharing_one_store(store_url):
    """The monitor writing while web requests read, acknowledge and comment on other threads of the same
    process (one IncidentStore): no error, every change once, in order."""
    from concurrent.futures import ThreadPoolExecutor

    batches = stream()
    with IncidentStore.open(store_url) as store:
        store.apply(batches[0], T0)
        first = store.incidents()[0].id
        errors: list = []

        def writer():
            for b in batches[1:]:
                store.apply(b, T0)

        def person(k: int):
            for j in range(15):
                store.comment(first, by=f"user{k}", text=f"note {j}")
                store.incidents(severity="warning")
                store.changes_since(0, 100)

        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(writer)] + [pool.submit(person, k) for k in range(3)]
            for f in futures:
                try:
                    f.result(timeout=600)
                except Exception as e:  # noqa: BLE001
                    errors.append(e)
        assert errors == []
        everything = store.changes_since(0, limit=10**6)
        assert sum(c.action == "commented" for c in everything) == 45
        assert [c.seq for c in everything] == sorted({c.seq for c in everything})
        assert store.get(first).comments == 45
