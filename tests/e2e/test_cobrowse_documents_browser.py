"""Pushed documents in Chromium, the gaps of issue 3: the desk shows the document at the page
the customer is on and the customer sees which page the agent is on; a pushed document stays
open across the customer's page loads (same page); several pushed, one taken back, the other
stays; the customer downloads and closes; an upload during a call belongs to that customer; a desk reload during the call gets the pushed
document back (its page, its zoom, Take back)."""

from __future__ import annotations

import re
import struct
import zlib

from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.helpers.pdfgen import pdf_with_pages

W = "otodesk-widget"


def png(width: int = 40, height: int = 30) -> bytes:
    """A real PNG: a plain orange picture."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xf9\x73\x16" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def connected_call(browser, server, agent_name: str, *, name: str, queue: str, topic: str):
    """``agent_name``'s desk in a call with a shopper on the plans page (widget minimised):
    (desk, shopper)."""
    desk = login(browser, server, agent_name)
    desk.get_by_test_id("btn-available").click()
    expect(desk.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    shopper = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
    shopper.goto(f"{server.base_url}/plans")
    shopper.locator(f"{W} [data-testid=otodesk-launcher]").click()
    form = shopper.locator(f"{W} [data-testid=otodesk-form]")
    form.locator("[name=name]").fill(name)
    form.locator("[name=queue]").select_option(queue)
    form.locator("[name=topic]").fill(topic)
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()
    expect(desk.get_by_test_id("offer-card")).to_be_visible(timeout=5000)
    desk.get_by_test_id("btn-accept").click()
    expect(desk.get_by_test_id("contact-view")).to_have_attribute("data-state", "connected")
    shopper.locator(f"{W} [data-testid=otodesk-minimize]").click()
    return desk, shopper


def test_documents_seen_on_both_sides_survive_page_loads_push_several_take_back(browser, server, tmp_path):
    bob, shopper = connected_call(browser, server, "bob", name="Doc Reader", queue="sales",
                                  topic="Send me the contract")

    # During the call an upload is this customer's own by default; the floor plan goes to the library.
    contract = tmp_path / "contract.pdf"
    contract.write_bytes(pdf_with_pages(["Contract page one", "Contract page two"]))
    expect(bob.get_by_test_id("doc-upload-for-customer")).to_be_checked()
    bob.get_by_test_id("doc-upload").set_input_files(str(contract))
    contract_item = bob.locator("[data-testid^=doc-][data-name='contract.pdf']")
    expect(contract_item).to_have_attribute("data-owner", "customer")
    plan = tmp_path / "floorplan.png"
    plan.write_bytes(png())
    bob.get_by_test_id("doc-upload-for-customer").uncheck()
    bob.get_by_test_id("doc-upload").set_input_files(str(plan))
    plan_item = bob.locator("[data-testid^=doc-][data-name='floorplan.png']")
    expect(plan_item).to_have_attribute("data-owner", "library")

    # Push the contract: the customer sees page 1, the desk shows the same page.
    contract_item.get_by_test_id("btn-doc-push").click()
    overlay = shopper.locator("otodesk-documents [data-testid=otodesk-doc]")
    page_text = overlay.get_by_test_id("otodesk-doc-page")
    expect(page_text).to_have_text("Page 1 of 2", timeout=8000)
    desk_canvas = bob.get_by_test_id("doc-desk-canvas")
    expect(desk_canvas).to_have_attribute("data-page", "1", timeout=8000)
    agent_page = overlay.get_by_test_id("otodesk-doc-agent-page")
    expect(agent_page).to_have_text(re.compile(r"Bob Okafor is on page 1$"))

    # The agent turns: the customer follows and sees where the agent is.
    bob.get_by_test_id("btn-doc-next").click()
    expect(page_text).to_have_text("Page 2 of 2", timeout=5000)
    expect(agent_page).to_have_text(re.compile(r"Bob Okafor is on page 2$"))
    expect(desk_canvas).to_have_attribute("data-page", "2")
    # The customer turns back: the desk shows page 1 (the page the customer is on).
    overlay.get_by_test_id("otodesk-doc-prev").click()
    remote = bob.locator("[data-testid=doc-pushed-item]").first.get_by_test_id("doc-remote-page")
    expect(remote).to_contain_text("Customer: page 1 of 2", timeout=5000)
    expect(desk_canvas).to_have_attribute("data-page", "1", timeout=5000)
    expect(bob.get_by_test_id("doc-viewer-title")).to_contain_text("you see page 1 of 2")
    # The desk's rendering is pixels of the PDF, not an empty box.
    assert bob.evaluate("""() => {
        const c = document.querySelector('[data-testid=doc-desk-canvas]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let dark = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) dark++;
        return dark;
    }""") > 50
    bob.get_by_test_id("btn-doc-next").click()
    expect(page_text).to_have_text("Page 2 of 2", timeout=5000)

    # A page load on the customer's side: the document opens again, at page 2.
    shopper.goto(f"{server.base_url}/cart")
    overlay = shopper.locator("otodesk-documents [data-testid=otodesk-doc]")
    expect(overlay).to_be_visible(timeout=8000)
    expect(overlay.get_by_test_id("otodesk-doc-title")).to_have_text("contract.pdf")
    page_text = overlay.get_by_test_id("otodesk-doc-page")
    expect(page_text).to_have_text("Page 2 of 2", timeout=8000)
    expect(overlay.get_by_test_id("otodesk-doc-canvas")).to_have_attribute("data-page", "2")
    # ... and it is still in sync: the agent turns back to page 1.
    bob.get_by_test_id("btn-doc-prev").click()
    expect(page_text).to_have_text("Page 1 of 2", timeout=5000)

    # Push a second document: two tabs; the image shows on both sides.
    plan_item.get_by_test_id("btn-doc-push").click()
    image = overlay.get_by_test_id("otodesk-doc-image")
    expect(image).to_be_visible(timeout=5000)
    assert image.evaluate("(img) => img.decode().then(() => img.naturalWidth)") == 40
    expect(overlay.get_by_role("tab")).to_have_count(2)
    expect(bob.get_by_test_id("doc-desk-image")).to_be_visible(timeout=5000)

    # Take the image back: the contract stays open on the customer's page.
    bob.locator("[data-testid=doc-pushed-item]").nth(1).get_by_test_id("btn-doc-take-back").click()
    expect(image).to_have_count(0, timeout=5000)
    expect(overlay.get_by_test_id("otodesk-doc-title")).to_have_text("contract.pdf")
    expect(overlay.get_by_role("tab")).to_have_count(0)
    expect(overlay.get_by_test_id("otodesk-doc-canvas")).to_have_attribute("data-page", "1", timeout=5000)
    expect(bob.locator("[data-testid=doc-pushed-item]").nth(1).get_by_test_id("doc-remote-page")) \
        .to_have_attribute("data-state", "closed")
    expect(desk_canvas).to_be_visible()

    # The customer downloads it (a file, not an inline view), then closes it.
    href = overlay.get_by_test_id("otodesk-doc-download").get_attribute("href")
    response = shopper.request.get(href)
    assert response.status == 200 and response.body().startswith(b"%PDF-")
    assert response.headers["content-disposition"].startswith("attachment")
    overlay.get_by_test_id("otodesk-doc-close").click()
    expect(overlay).to_be_hidden()
    expect(remote).to_have_text("Closed by the customer", timeout=5000)
    expect(bob.get_by_test_id("doc-viewer")).to_be_hidden()
    # Closed stays closed on the next page.
    shopper.goto(f"{server.base_url}/plans")
    shopper.wait_for_timeout(800)
    expect(shopper.locator("otodesk-documents [data-testid=otodesk-doc]")).to_have_count(0)
    for page in (bob, shopper):
        page.context.close()


def test_desk_reload_during_a_call_gets_the_pushed_document_back(browser, server, tmp_path):
    carol, shopper = connected_call(browser, server, "carol", name="Reload Reader", queue="support",
                                    topic="The terms, please")

    terms = tmp_path / "terms.pdf"
    terms.write_bytes(pdf_with_pages(["Terms page one", "Terms page two", "Terms page three"]))
    carol.get_by_test_id("doc-upload").set_input_files(str(terms))
    carol.locator("[data-testid^=doc-][data-name='terms.pdf']").get_by_test_id("btn-doc-push").click()
    overlay = shopper.locator("otodesk-documents [data-testid=otodesk-doc]")
    expect(overlay.get_by_test_id("otodesk-doc-page")).to_have_text("Page 1 of 3", timeout=8000)
    # The customer turns to page 2 and zooms in; the desk follows.
    overlay.get_by_test_id("otodesk-doc-next").click()
    overlay.get_by_test_id("otodesk-doc-zoom-in").click()
    remote = carol.get_by_test_id("doc-remote-page")
    expect(remote).to_have_text("Customer: page 2 of 3 · 125%", timeout=5000)

    # The desk reloads during the call: the document is still there, where the customer is.
    carol.reload()
    expect(carol.get_by_test_id("contact-view")).to_have_attribute("data-state", "connected", timeout=8000)
    item = carol.get_by_test_id("doc-pushed-item")
    expect(item).to_have_count(1, timeout=8000)
    expect(item.get_by_text("terms.pdf")).to_be_visible()
    expect(item.get_by_test_id("doc-remote-page")).to_have_text("Customer: page 2 of 3 · 125%")
    expect(carol.get_by_test_id("doc-desk-canvas")).to_have_attribute("data-page", "2", timeout=8000)
    # A pushed document is not a co-browse share: the panel does not wait for a page that never comes.
    expect(carol.get_by_test_id("cobrowse-state")).not_to_have_attribute("data-state", "paused")
    # ... and still in sync: the customer turns to page 3, the reloaded desk sees it.
    overlay.get_by_test_id("otodesk-doc-next").click()
    expect(item.get_by_test_id("doc-remote-page")).to_have_text("Customer: page 3 of 3 · 125%", timeout=5000)

    # Take back works from the reloaded desk: the document leaves the customer's screen.
    item.get_by_test_id("btn-doc-take-back").click()
    expect(overlay).to_be_hidden(timeout=5000)
    expect(item.get_by_test_id("doc-remote-page")).to_have_text("Taken back")
    # A taken-back document is not given back by the next reload.
    carol.reload()
    expect(carol.get_by_test_id("contact-view")).to_have_attribute("data-state", "connected", timeout=8000)
    carol.wait_for_timeout(500)
    expect(carol.get_by_test_id("doc-pushed-item")).to_have_count(0)
    for page in (carol, shopper):
        page.context.close()
