"""The widget's layout at a phone's size (390×844) and a laptop's (1280×860) during a call with
co-browse and a pushed document (issue 9, item 10): what a person needs stays on screen and
reachable. Screenshots go to $OTODESK_SHOTS when it is set, to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, login
from tests.helpers.pdfgen import pdf_with_pages

W = "otodesk-widget"
CB = "otodesk-cobrowse"
DOC = "otodesk-documents [data-testid=otodesk-doc]"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 860}

# Is the element's middle the element itself (not covered by anything, in any shadow root)?
ON_TOP = """(element) => {
    const box = element.getBoundingClientRect();
    const x = box.left + box.width / 2, y = box.top + box.height / 2;
    if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) return "off screen";
    let hit = document.elementFromPoint(x, y);
    while (hit && hit.shadowRoot) {
        const inner = hit.shadowRoot.elementFromPoint(x, y);
        if (!inner || inner === hit) break;
        hit = inner;
    }
    return hit === element || element.contains(hit) ? "visible" : `covered by ${hit && (hit.dataset?.testid || hit.className || hit.tagName)}`;
}"""


@pytest.fixture(scope="module")
def media_browser(browser):
    """Chromium with a fake microphone, so a browser call shows its Mute and Hang up."""
    media = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[
        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
    try:
        yield media
    finally:
        media.close()


def shot(page, name: str) -> None:
    if os.environ.get("OTODESK_SHOTS"):
        Path(os.environ["OTODESK_SHOTS"]).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{os.environ['OTODESK_SHOTS']}/{name}.png")


def on_top(locator) -> str:
    return locator.evaluate(ON_TOP)


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_the_form_fits_the_window(browser, server, viewport):
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{server.base_url}/")
    page.locator(f"{W} [data-testid=otodesk-launcher]").click()
    expect(page.locator(f"{W} [data-testid=otodesk-form]")).to_be_visible()
    name = f"form-{viewport['width']}x{viewport['height']}"
    shot(page, name)
    # The whole form at once, without scrolling the panel: from the name to the button.
    for testid in ("otodesk-submit",):
        assert on_top(page.locator(f"{W} [data-testid={testid}]")) == "visible", name
    assert on_top(page.locator(f"{W} [name=name]")) == "visible", name
    assert page.locator(f"{W} .panel").evaluate("(p) => p.scrollHeight <= p.clientHeight + 1"), name
    page.context.close()


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_banner_document_and_call_controls_all_reachable(media_browser, browser, server, tmp_path, viewport):
    agent = login(browser, server, "alice")
    agent.get_by_test_id("btn-available").click()
    expect(agent.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    shopper = media_browser.new_context(viewport=viewport).new_page()
    shopper.goto(f"{server.base_url}/plans")
    shopper.locator(f"{W} [data-testid=otodesk-launcher]").click()
    form = shopper.locator(f"{W} [data-testid=otodesk-form]")
    form.locator("[name=name]").fill("Lay Out")
    form.locator("[name=queue]").select_option("sales")
    shopper.locator(f"{W} [data-testid=otodesk-when-now]").check(force=True)
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()
    expect(agent.get_by_test_id("offer-card")).to_be_visible(timeout=8000)
    agent.get_by_test_id("btn-accept").click()
    expect(agent.get_by_test_id("contact-view")).to_have_attribute("data-state", "connected")
    expect(shopper.locator(f"{W} [data-testid=otodesk-hangup]")).to_be_visible(timeout=8000)

    # Co-browse (its bar) and a pushed document.
    agent.get_by_test_id("btn-cobrowse").click()
    shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-accept]").click(timeout=8000)
    banner = shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-banner]")
    expect(banner).to_be_visible()
    contract = tmp_path / "contract.pdf"
    contract.write_bytes(pdf_with_pages(["Contract page one", "Contract page two"]))
    agent.get_by_test_id("doc-upload").set_input_files(str(contract))
    agent.locator("[data-testid^=doc-][data-name='contract.pdf']").get_by_test_id("btn-doc-push").click()
    overlay = shopper.locator(DOC)
    expect(overlay.get_by_test_id("otodesk-doc-page")).to_have_text("Page 1 of 2", timeout=8000)
    name = f"call-{viewport['width']}x{viewport['height']}"
    panel = shopper.locator(f"{W} .panel")
    if viewport is PHONE:
        # A phone has room for one: the document with the panel minimised, the launcher says "On a call".
        shopper.locator(f"{W} [data-testid=otodesk-minimize]").click()
        expect(panel).to_be_hidden()
    shot(shopper, name)

    # The bar is a bar, not a tall block, and covers neither the title nor Download.
    assert banner.bounding_box()["height"] <= 68, (name, banner.bounding_box())
    for testid in ("otodesk-doc-title", "otodesk-doc-download", "otodesk-doc-close", "otodesk-doc-next"):
        assert on_top(overlay.get_by_test_id(testid)) == "visible", (name, testid)
    assert on_top(banner.get_by_test_id("otodesk-cobrowse-who")) == "visible", name
    assert on_top(banner.get_by_test_id("otodesk-cobrowse-stop")) == "visible", name
    if viewport is PHONE:
        launcher = shopper.locator(f"{W} [data-testid=otodesk-launcher]")
        assert on_top(launcher) == "visible", name
        expect(launcher).to_contain_text("On a call")
        launcher.click()
        expect(panel).to_be_visible()
        shot(shopper, f"{name}-panel")
    # The call's controls are never under the document.
    for testid in ("otodesk-mute", "otodesk-hangup"):
        assert on_top(shopper.locator(f"{W} [data-testid={testid}]")) == "visible", (name, testid)

    agent.get_by_test_id("btn-end").click()
    # Leaving wrap-up takes an outcome (Done); then away, so the next case's desk starts clean.
    agent.get_by_test_id("wrapup-disposition").select_option("Resolved")
    agent.get_by_test_id("btn-wrapup").click()
    expect(agent.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    agent.get_by_test_id("btn-away").click()
    expect(agent.get_by_test_id("desk-state")).to_have_attribute("data-state", "away")
    shopper.context.close()
    agent.context.close()
