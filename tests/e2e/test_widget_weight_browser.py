"""What the widget costs a site's page, measured on the wire in Chromium (issue 9, item 17).

Every request the widget makes is counted with its bytes as received (headers and the body as
compressed on the wire), on a first visit before the customer opens it and on the next page.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from desktop.web.assets import WidgetBuild

ROOT = Path(__file__).resolve().parents[2]
W = "otodesk-widget"
# The widget's own requests (the shop's page loads /static/common/ modules of its own; a widget
# served as plain modules would show as /static/widget/ requests).
WIDGET_PATHS = ("/widget.js", "/static/widget/", "/static/dist/", "/api/visitor")

FIRST_LOAD_BYTES = 10 * 1024
FIRST_LOAD_CODE_REQUESTS = 2  # the loader and the bundle


def panel_settled(page, wire: Wire) -> None:
    """The panel drawn, its knowledge-base module (kb.js, fetched once the form is there) too,
    and every request counted finished: the page's "networkidle" was reached long before."""
    page.wait_for_load_state("networkidle")
    expect(page.locator(f"{W} [data-testid=otodesk-kb]")).to_be_attached()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(r["done"] for r in wire.requests.values()):
        page.wait_for_timeout(50)


@pytest.fixture(scope="module", autouse=True)
def built_widget():
    """The built widget, as `make` leaves it (built here when the sources changed since)."""
    if WidgetBuild(ROOT / "static").loader() is None:
        subprocess.run(["node", "static/build-widget.mjs"], cwd=ROOT, check=True, capture_output=True)
    assert WidgetBuild(ROOT / "static").loader() is not None


class Wire:
    """The widget's requests seen by Chromium's network domain (CDP), with their bytes on the wire."""

    def __init__(self, page):
        self.requests: dict[str, dict] = {}
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.requestServedFromCache", lambda e: self._set(e, cached=True))
        cdp.on("Network.responseReceived", lambda e: self._set(
            e, status=e["response"]["status"], encoding=e["response"]["headers"].get("content-encoding", ""),
            cached=e["response"].get("fromDiskCache") or self.requests.get(e["requestId"], {}).get("cached")))
        cdp.on("Network.loadingFinished", lambda e: self._set(e, wire=e["encodedDataLength"], done=True))
        cdp.send("Network.enable")

    def _sent(self, event):
        path = urlsplit(event["request"]["url"]).path
        if path.startswith(WIDGET_PATHS):
            self.requests[event["requestId"]] = {"path": path, "wire": 0, "cached": False, "done": False}

    def _set(self, event, **fields):
        if event["requestId"] in self.requests:
            self.requests[event["requestId"]].update(fields)

    def on_network(self) -> list[dict]:
        """The requests that reached the server (not answered from the browser's cache)."""
        return [r for r in self.requests.values() if not r["cached"]]

    def total(self) -> int:
        return sum(r["wire"] for r in self.on_network())

    def clear(self) -> None:
        self.requests.clear()


def settle(page) -> None:
    expect(page.locator(f"{W} [data-testid=otodesk-launcher]")).to_be_visible(timeout=10000)
    page.wait_for_load_state("networkidle")


def test_first_and_next_page_load_on_the_wire(browser, server):
    context = browser.new_context()
    page = context.new_page()
    wire = Wire(page)
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))

    page.goto(f"{server.base_url}/")
    settle(page)
    first = wire.on_network()
    code = [r for r in first if not r["path"].startswith("/api/")]
    print(f"\nfirst page load: {len(first)} requests, {wire.total()} B on the wire: "
          + ", ".join(f"{r['path']} {r['wire']} B {r['encoding']}" for r in first) + f"; websockets: {len(sockets)}")
    assert all(r["done"] and r["status"] == 200 for r in first), first
    assert all(r["encoding"] in ("br", "gzip") for r in code), code  # nothing sent uncompressed
    assert len(code) <= FIRST_LOAD_CODE_REQUESTS, code
    assert wire.total() <= FIRST_LOAD_BYTES, first

    # The next page: the bundle comes from the cache (immutable), the token is kept.
    wire.clear()
    page.goto(f"{server.base_url}/cart")
    settle(page)
    following = wire.on_network()
    print(f"next page load: {len(following)} requests, {wire.total()} B on the wire: "
          + ", ".join(f"{r['path']} {r['wire']} B" for r in following))
    assert following == [], following

    # Opening it: the panel's module, fetched as the pointer reaches the launcher.
    page.locator(f"{W} [data-testid=otodesk-launcher]").click()
    expect(page.locator(f"{W} [data-testid=otodesk-form]")).to_be_visible()
    panel_settled(page, wire)
    opened = wire.on_network()
    print(f"opening the panel: {len(opened)} requests, {wire.total()} B on the wire: "
          + ", ".join(f"{r['path']} {r['wire']} B" for r in opened))
    # With the customer's words: the catalogue of their language, and of no other; and the
    # knowledge base's suggestions (kb.js, docs/kb.md).
    assert sorted(r["path"].split("/")[-1].split(".")[0] for r in opened) == ["kb", "messages-en", "ui"], opened
    context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN", "zh-TW"])
@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_each_language_costs_one_catalogue(browser, server, locale, encoding):
    """Per language and coding (gzip: what a browser without brotli gets), the first page load and
    opening the panel: only the customer's language's catalogue is fetched, and only then."""
    headers = {"Accept-Encoding": "gzip, deflate"} if encoding == "gzip" else {}
    context = browser.new_context(locale=locale, extra_http_headers=headers)
    page = context.new_page()
    wire = Wire(page)
    page.goto(f"{server.base_url}/")
    settle(page)
    first = wire.on_network()
    first_total = wire.total()
    assert not [r for r in first if "messages-" in r["path"]], first
    assert encoding == "gzip" or first_total <= FIRST_LOAD_BYTES, first
    wire.clear()
    page.locator(f"{W} [data-testid=otodesk-launcher]").click()
    expect(page.locator(f"{W} [data-testid=otodesk-form]")).to_be_visible()
    panel_settled(page, wire)
    opened = wire.on_network()
    catalogue = "zh-CN" if locale == "zh-CN" else "zh-TW" if locale == "zh-TW" else "en"
    assert sorted(r["path"].split("/")[-1].split(".")[0] for r in opened) == ["kb", f"messages-{catalogue}", "ui"], opened
    assert {r["encoding"] for r in opened} == {encoding}, opened
    print(f"\n{locale} {encoding}: first page load {first_total} B, opening the panel {wire.total()} B: "
          + ", ".join(f"{r['path'].split('/')[-1]} {r['wire']} B" for r in opened))
    context.close()


def test_hashed_files_are_immutable_and_the_loader_short_lived(server):
    import httpx

    assert httpx.get(f"{server.base_url}/widget.js", headers={"Accept-Encoding": "br"}).headers["content-encoding"] == "br"
    loader = httpx.get(f"{server.base_url}/widget.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in loader.headers
    assert "max-age=300" in loader.headers["cache-control"]
    bundle = loader.text.split('"/static/dist/widget/')[1].split('"')[0]
    response = httpx.get(f"{server.base_url}/static/dist/widget/{bundle}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["vary"].startswith("Accept-Encoding")
    again = httpx.get(f"{server.base_url}/static/dist/widget/{bundle}",
                      headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
