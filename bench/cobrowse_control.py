"""How quickly the agent's hand reaches the customer's page, in Chromium (prints figures, never fails).

One ``otodesk demo`` process with remote control on; a shopper on the checkout page shares
it and gives the agent control. Then ``--probes`` times, the agent's desk sends one typed
character for the unmasked promo field (the message the desk sends for a key press):

- **applied**: from the desk's send to the shopper's page seeing the ``input`` event;
- **seen back**: from the desk's send to the agent's own mirror showing the new value
  (what the agent sees of their typing: desk → hub → page → recorder → hub → replay).

Both pages share this machine's clock. Usage:
``.venv/bin/python -m bench.cobrowse_control [--probes 40]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, login
from tests.helpers.server import running_server

W = "otodesk-widget"
CB = "otodesk-cobrowse"

SEND = """(n) => {
  const panel = window.otodeskCobrowse;
  const doc = panel.view.document;
  const node = panel.view.replayer.getMirror().getId(doc.querySelector('#co-promo'));
  const sent = Date.now();
  panel.socket.notify('cobrowse_input', {visitor_id: panel.visitorId, action: 'text', node, text: 'x'});
  return new Promise((done) => {
    const look = () => {
      const field = panel.view.document && panel.view.document.querySelector('#co-promo');
      if (field && field.value.length >= n) done({sent, seen: Date.now()}); else requestAnimationFrame(look);
    };
    look();
  });
}"""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=40, help="typed characters timed")
    args = parser.parse_args()
    env = {"OTODESK_COBROWSE_REMOTE_CONTROL": "*"}
    with tempfile.TemporaryDirectory() as var, running_server(Path(var), env=env) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        agent = login(browser, server, "alice")
        agent.get_by_test_id("btn-available").click()
        shopper = browser.new_context(viewport={"width": 1100, "height": 1400}).new_page()
        shopper.goto(f"{server.base_url}/checkout")
        shopper.locator(f"{W} [data-testid=otodesk-launcher]").click()
        form = shopper.locator(f"{W} [data-testid=otodesk-form]")
        form.locator("[name=name]").fill("Bench Control")
        form.locator("[name=queue]").select_option("sales")
        shopper.locator(f"{W} [data-testid=otodesk-submit]").click()
        agent.get_by_test_id("btn-accept").click(timeout=10000)
        shopper.locator(f"{W} [data-testid=otodesk-minimize]").click()
        agent.get_by_test_id("btn-cobrowse").click()
        shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-accept]").click(timeout=10000)
        mirror = agent.frame_locator("[data-testid=cobrowse-replay] iframe")
        expect(mirror.locator("#co-promo")).to_be_attached(timeout=10000)
        agent.get_by_test_id("btn-cobrowse-control").click()
        shopper.locator(f"{CB} [data-testid=otodesk-control-allow]").click(timeout=10000)
        expect(agent.get_by_test_id("btn-cobrowse-control")).to_have_attribute("data-state", "granted")
        shopper.evaluate("""() => { window.applied = [];
            document.querySelector('#co-promo').addEventListener('input', () => window.applied.push(Date.now())); }""")
        applied: list[float] = []
        seen: list[float] = []
        for n in range(1, args.probes + 1):
            times = agent.evaluate(SEND, n)
            at = shopper.wait_for_function("(n) => window.applied[n - 1]", arg=n, timeout=10000).json_value()
            applied.append(at - times["sent"])
            seen.append(times["seen"] - times["sent"])
            agent.wait_for_timeout(80)  # below the 15/s input budget
        browser.close()
    print("remote control on the demo shop (Chromium, one otodesk process, this machine)")
    print(f"  agent's input -> applied on the customer's page: p50 {statistics.median(applied):.0f} ms, "
          f"p95 {_pct(applied, 0.95):.0f} ms ({len(applied)} inputs)")
    print(f"  agent's input -> seen back in the agent's mirror: p50 {statistics.median(seen):.0f} ms, "
          f"p95 {_pct(seen, 0.95):.0f} ms")
    print(json.dumps({"probes": len(applied), "applied_p50_ms": round(statistics.median(applied), 1),
                      "applied_p95_ms": round(_pct(applied, 0.95), 1),
                      "seen_back_p50_ms": round(statistics.median(seen), 1),
                      "seen_back_p95_ms": round(_pct(seen, 0.95), 1)}))


if __name__ == "__main__":
    main()
