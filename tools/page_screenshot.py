"""Take a screenshot of skyfence's page (how docs/page.png was made).

    skyfence serve --store out/demo/incidents.db --replay out/demo/tracks.parquet --port 8080 &
    python tools/page_screenshot.py http://127.0.0.1:8080 TOKEN docs/page.png --at 2017-11-01T10:16:30Z \
        --select 1ba0c8 --speed 5

Debian's chromium through playwright (swiftshader for WebGL); every request beyond the server is blocked.
"""

from __future__ import annotations

import argparse
from datetime import datetime


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("token")
    ap.add_argument("out")
    ap.add_argument("--at", help="replay moment (ISO 8601 UTC)")
    ap.add_argument("--select", help="select the first incident whose row holds this text (callsign, address)")
    ap.add_argument("--speed", default="5")
    ap.add_argument("--zoom", type=float, default=None)
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=860)
    a = ap.parse_args()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium",
                              args=["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"])
        page = b.new_page(viewport={"width": a.width, "height": a.height}, bypass_csp=True)
        outside = []
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(a.url) else
                   (outside.append(r.request.url), r.abort()))
        page.goto(f"{a.url}/#token={a.token}")
        page.wait_for_function("window.skyfence && window.skyfence.lastFrame", timeout=60_000)
        page.wait_for_timeout(1500)
        if a.select:
            page.locator("#incidents li", has_text=a.select).first.click()
            page.wait_for_timeout(3000)
        if a.at:
            t = datetime.fromisoformat(a.at.replace("Z", "+00:00")).timestamp()
            page.select_option("#speed", a.speed)
            page.evaluate(f"window.skyfence.replay.seek({t})")
            page.wait_for_timeout(4000)
        if a.zoom is not None:
            page.evaluate(f"window.skyfence.map.jumpTo({{zoom: {a.zoom}}})")
            page.wait_for_timeout(2000)
        page.screenshot(path=a.out)
        b.close()
        if outside:
            raise SystemExit(f"requests beyond the server: {outside}")


if __name__ == "__main__":
    main()
