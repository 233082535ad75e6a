"""The end of ``skyfence demo``: the simulated day on the page, with a viewer's and an officer's token."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

DEMO_USERS = ("demo-viewer", "demo-officer")


def fill_store(store, tracks: Path, agreement) -> None:
    """Run the monitor over the recording (as fast as it can) when the store holds no incident yet."""
    if store.last_seq() > 0:
        return
    from skyfence.live.monitor import Monitor
    from skyfence.live.sources import open_source

    Monitor([open_source(str(tracks))], agreement, store, tick=120.0, speed=0).run()  # as the demo's own replay


def demo_tokens(store) -> dict[str, tuple[str, str | None]]:
    """Fresh tokens for the demo's viewer and officer (an officer of the party in most incidents)."""
    from skyfence.web.users import Users

    parties = Counter(p for inc in store.incidents() for p in inc.parties)
    party = parties.most_common(1)[0][0] if parties else None
    users = Users(store.engine)
    for name in DEMO_USERS:
        users.remove(name)
    out = {"viewer": (users.add("demo-viewer", "viewer"), None)}
    if party:
        out["officer"] = (users.add("demo-officer", "officer", party), party)
    return out


def serve_demo(out_dir: Path, port: int = 8080, host: str = "127.0.0.1", console=None) -> None:
    """Serve ``out_dir/tracks.parquet`` for replay over ``out_dir/incidents.db`` (filled by the monitor), print
    the address and tokens, and serve until Ctrl-C."""
    from skyfence.cli.serve_cmd import build_context, run

    store_path, tracks = out_dir / "incidents.db", out_dir / "tracks.parquet"
    ctx = build_context(str(store_path), "euphrates-2017", [tracks], create=True)
    fill_store(ctx.store, tracks, ctx.agreement)
    if ctx.replay_start is None:
        from skyfence.cli.serve_cmd import first_incident

        ctx.replay_start = first_incident(ctx.store, ctx.recording)
    tokens = demo_tokens(ctx.store)
    say = console.print if console is not None else print
    url = f"http://{host}:{port}/"
    say(f"\nThe simulated day on the page: {url}  (Ctrl-C stops)")
    say(f"  viewer token:  {tokens['viewer'][0]}\n  open as viewer:  {url}#token={tokens['viewer'][0]}")
    if "officer" in tokens:
        token, party = tokens["officer"]
        say(f"  officer token ({party}): {token}\n  open as officer: {url}#token={token}")
    run(ctx, host, port)
