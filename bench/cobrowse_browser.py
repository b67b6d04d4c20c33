"""What co-browse costs, measured in Chromium on the demo shop (prints figures, never fails).

One ``otodesk demo`` process, a shopper and an agent in Debian's Chromium: the shopper
asks for a call, the agent accepts and asks to see the page, the shopper shares. Then:

1. **full snapshot**: the size (JSON characters) of the Meta + FullSnapshot batch of each
   shop page (home, product, cart, checkout) as it leaves the shopper's browser, and the
   same deflated (what a compressed transport would carry);
2. **bytes per minute**: every co-browse frame the shopper's browser sends during
   ``--seconds`` of scripted browsing (mouse moves, scrolling, typing in the checkout form,
   four page loads), scaled to one minute; and the same for an idle minute (page shown,
   nobody moving);
3. **DOM change → replay latency**: the shopper's page adds an element; the time until
   it exists in the agent's replayed DOM (both pages share this machine's clock), p50/p95
   of ``--probes`` changes.

Usage: ``.venv/bin/python -m bench.cobrowse_browser [--seconds 20] [--probes 30]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import zlib
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, login
from tests.helpers.server import running_server

W = "otodesk-widget"
CB = "otodesk-cobrowse"

# Started on the agent's page before the change: notes when the probe appears in the replay.
WATCH_FOR_PROBE = """(id) => {
  window.otodeskSeen = window.otodeskSeen || {};
  const look = () => {
    const doc = window.otodeskCobrowse && window.otodeskCobrowse.view && window.otodeskCobrowse.view.document;
    if (doc && doc.getElementById(id)) window.otodeskSeen[id] = Date.now(); else requestAnimationFrame(look);
  };
  look();
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of scripted browsing")
    parser.add_argument("--probes", type=int, default=30, help="DOM changes timed")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as var, running_server(Path(var)) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        agent = login(browser, server, "alice")
        agent.get_by_test_id("btn-available").click()
        frames: list[tuple[float, str]] = []
        shopper = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        shopper.on("websocket", lambda ws: ws.on("framesent", lambda p: frames.append(
            (time.monotonic(), p if isinstance(p, str) else p.decode(errors="replace")))))
        shopper.goto(f"{server.base_url}/")
        shopper.locator(f"{W} [data-testid=otodesk-launcher]").click()
        form = shopper.locator(f"{W} [data-testid=otodesk-form]")
        form.locator("[name=name]").fill("Bench Shopper")
        form.locator("[name=queue]").select_option("sales")
        shopper.locator(f"{W} [data-testid=otodesk-submit]").click()
        agent.get_by_test_id("btn-accept").click()
        shopper.locator(f"{W} [data-testid=otodesk-minimize]").click()
        agent.get_by_test_id("btn-cobrowse").click()
        shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-accept]").click()
        expect(agent.get_by_test_id("cobrowse-state")).to_have_attribute("data-state", "sharing", timeout=10000)
        mirror = agent.frame_locator("[data-testid=cobrowse-replay] iframe")

        # 1. Full snapshots of each page.
        snapshots = {}
        for path in ("/", "/product/" + _first_product(shopper), "/cart", "/checkout"):
            mark = len(frames)
            shopper.goto(f"{server.base_url}{path}")
            expect(shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-banner]")).to_be_visible(timeout=10000)
            shopper.wait_for_timeout(800)
            snapshots[path] = _snapshot_size(frames[mark:])

        # 2. Bytes per minute, busy then idle.
        shopper.goto(f"{server.base_url}/")
        expect(mirror.locator("[data-testid=product-grid]")).to_be_attached(timeout=10000)
        start, mark = time.monotonic(), len(frames)
        _browse(shopper, server.base_url, args.seconds)
        busy_seconds = time.monotonic() - start
        busy = _cobrowse_bytes(frames[mark:])
        shopper.wait_for_timeout(1000)
        mark, start = len(frames), time.monotonic()
        shopper.wait_for_timeout(10_000)
        idle_seconds = time.monotonic() - start
        idle = _cobrowse_bytes(frames[mark:])

        # 3. Latency of a DOM change to its replay.
        shopper.goto(f"{server.base_url}/")
        expect(mirror.locator("[data-testid=product-grid]")).to_be_attached(timeout=10000)
        latencies = []
        for index in range(args.probes):
            probe = f"otodesk-probe-{index}"
            agent.evaluate(WATCH_FOR_PROBE, probe)
            sent_at = shopper.evaluate("""(id) => { const p = document.createElement('p'); p.id = id;
                p.textContent = 'probe ' + id; document.querySelector('main').append(p); return Date.now(); }""", probe)
            seen_at = agent.wait_for_function("(id) => window.otodeskSeen[id]", arg=probe, timeout=10000).json_value()
            latencies.append(seen_at - sent_at)
            shopper.wait_for_timeout(150)
        browser.close()

    print("co-browse on the demo shop (Chromium, one otodesk process, this machine)")
    for path, (raw, deflated) in snapshots.items():
        print(f"  full snapshot {path:<28} {raw / 1024:7.1f} KB JSON, {deflated / 1024:6.1f} KB deflated")
    print(f"  busy browsing: {busy / 1024 / busy_seconds * 60:8.1f} KB/min "
          f"({busy / 1024:.1f} KB in {busy_seconds:.1f} s, incl. 4 page loads)")
    print(f"  idle page:     {idle / 1024 / idle_seconds * 60:8.1f} KB/min")
    latencies.sort()
    print(f"  DOM change -> agent's replay: p50 {statistics.median(latencies):.0f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95) - 1]:.0f} ms, max {latencies[-1]:.0f} ms "
          f"({len(latencies)} changes; batching every 100 ms)")


def _first_product(page) -> str:
    href = page.locator("[data-testid^=product-] a").first.get_attribute("href")
    return href.rstrip("/").rsplit("/", 1)[-1]


def _cobrowse_bytes(frames) -> int:
    return sum(len(text.encode()) for _at, text in frames if '"type":"cobrowse_' in text[:40])


def _snapshot_size(frames) -> tuple[int, int]:
    events = []
    for _at, text in frames:
        message = json.loads(text)
        if message.get("type") == "cobrowse_events":
            events.extend(message["events"])
        elif message.get("type") == "cobrowse_chunk":
            events.append(message["data"])
    chunks = [json.loads(text) for _at, text in frames if '"cobrowse_chunk"' in text[:40]]
    if chunks:
        data = "".join(c["data"] for c in chunks)
        events = [e for e in events if not isinstance(e, str)] + json.loads(data)
    snapshot = [e for e in events if isinstance(e, dict) and e.get("type") in (2, 4)]
    raw = json.dumps(snapshot, separators=(",", ":")).encode()
    return len(raw), len(zlib.compress(raw, 6))


def _browse(page, base: str, seconds: float) -> None:
    end = time.monotonic() + seconds
    paths = ["/", "/cart", "/checkout", "/"]
    step = 0
    while time.monotonic() < end:
        if step % 12 == 0 and step // 12 < len(paths):
            page.goto(base + paths[step // 12])
        for i in range(10):
            page.mouse.move(100 + (step * 37 + i * 53) % 900, 100 + (step * 23 + i * 31) % 600)
            page.wait_for_timeout(30)
        page.mouse.wheel(0, 300 if step % 2 else -300)
        if page.url.endswith("/checkout") and step % 3 == 0:
            page.locator("#co-address").type("12 Example Street ", delay=40)
        step += 1
        page.wait_for_timeout(200)


if __name__ == "__main__":
    main()
