"""Live feeds under fuzzing: SBS, raw frames ('TIMESTAMP,HEX' and '@' MLAT lines), Beast and CoT with garbage,
random bytes, drops mid-record, and a sender far faster than real time; through the decoders and through a
real TCP server and ``ingest``."""

from __future__ import annotations

import pytest

from tests.fuzz.feeds import FEEDS, MUTATIONS, run_feed_case, serve_case


@pytest.mark.parametrize("mutation", MUTATIONS)
@pytest.mark.parametrize("feed", FEEDS)
def test_feed_decoders_lose_nothing(feed, mutation):
    failures = [o.describe() + ("\n" + o.note if o.status == "crash" else "")
                for o in (run_feed_case(feed, mutation, seed) for seed in (0, 1)) if o.failed]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("feed, mutation", [("beast", "drops"), ("sbs", "all"), ("cot", "all")])
def test_feed_over_tcp_faster_than_real_time(feed, mutation, tmp_path):
    """A replay server sending as fast as the client reads, cutting records mid-way: every state once.

    Beast was the case that failed: after a drop the receiver clock was anchored again to the arrival
    time, the new times overlapped the old ones, and old frames were decoded a second time."""
    out = serve_case(feed, mutation, 0, tmp_path)
    assert not out.failed, out.describe()
