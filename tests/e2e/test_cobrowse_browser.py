"""Co-browse in Chromium: consent, the live mirror, privacy on the wire, navigation,
the agent's pointer, a supervisor joining midway, stop sharing."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.e2e.conftest import login

W = "otodesk-widget"
CB = "otodesk-cobrowse"
SHADOW_SECRET = "ACCT-7731-4410"      # inside a masked component's shadow root
FRAME_SECRET = "GB33BUKB20201555555555"  # inside a masked same-origin frame
SLOT_SECRET = "LOYAL-90210-77"        # light DOM shown through a slot in a masked wrapper
CARD = "4000 0566 5566 5556"          # Luhn-valid test card (not the page's placeholder)
PASSWORD = "Hunter2-Secret!pw"
PROMO = "SPRING-SALE-42"               # the shop marks this field safe: the agent sees it
NAME = "Dana Privatename"


def _secrets_in(text: str) -> list[str]:
    found = []
    for secret in (CARD, CARD.replace(" ", ""), PASSWORD, NAME, SHADOW_SECRET, FRAME_SECRET, SLOT_SECRET):
        if secret in text:
            found.append(secret)
    return found


def _connected_shopper(browser, server, alice, sent: list[str], received: list[str] | None = None,
                       *, init_script: str | None = None):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    if init_script:
        context.add_init_script(init_script)
    shopper = context.new_page()

    def capture(ws):
        ws.on("framesent", lambda payload: sent.append(
            payload if isinstance(payload, str) else payload.decode(errors="replace")))
        if received is not None:
            ws.on("framereceived", lambda payload: received.append(payload if isinstance(payload, str) else ""))

    shopper.on("websocket", capture)
    shopper.goto(f"{server.base_url}/checkout")
    shopper.locator(f"{W} [data-testid=otodesk-launcher]").click()
    form = shopper.locator(f"{W} [data-testid=otodesk-form]")
    form.locator("[name=name]").fill("Dana Cobrowse")
    form.locator("[name=queue]").select_option("sales")
    form.locator("[name=topic]").fill("Payment fails")
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()
    expect(alice.get_by_test_id("offer-card")).to_be_visible(timeout=5000)
    alice.get_by_test_id("btn-accept").click()
    expect(alice.get_by_test_id("contact-view")).to_have_attribute("data-state", "connected")
    shopper.locator(f"{W} [data-testid=otodesk-minimize]").click()
    return shopper


def test_cobrowse_consent_mirror_privacy_pointer_supervisor_stop(browser, server):
    alice = login(browser, server, "alice")
    alice.get_by_test_id("btn-available").click()
    expect(alice.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    sent: list[str] = []
    received: list[str] = []
    shopper = _connected_shopper(browser, server, alice, sent, received)

    # Nothing is recorded before consent: the recorder is not even loaded.
    assert shopper.evaluate("typeof window.rrwebRecord") == "undefined"

    alice.get_by_test_id("btn-cobrowse").click()
    expect(alice.get_by_test_id("cobrowse-state")).to_have_attribute("data-state", "requested")
    prompt = shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-prompt]")
    expect(prompt).to_be_visible(timeout=5000)
    expect(prompt).to_contain_text("would like to see this page")
    assert shopper.evaluate("typeof window.rrwebRecord") == "undefined"
    shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-accept]").click()
    banner = shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-banner]")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("can see this page")

    # The agent sees the page live, in rrweb's sandboxed iframe.
    expect(alice.get_by_test_id("cobrowse-state")).to_have_attribute("data-state", "sharing", timeout=5000)
    replay_iframe = alice.locator("[data-testid=cobrowse-replay] iframe")
    expect(replay_iframe).to_have_attribute("sandbox", re.compile(r"^(?!.*allow-scripts)"))
    mirror = alice.frame_locator("[data-testid=cobrowse-replay] iframe")
    expect(mirror.locator("[data-testid=checkout-form]")).to_be_attached(timeout=5000)

    # The site wrongly marks the card and a password field as safe: both stay hidden anyway.
    shopper.evaluate("""() => {
        document.querySelector('#co-card').setAttribute('data-otodesk-unmask', '');
        const field = document.createElement('input');
        field.type = 'password'; field.id = 'pw'; field.setAttribute('data-otodesk-unmask', '');
        document.querySelector('[data-checkout-form]').prepend(field);
    }""")
    expect(mirror.locator("#pw")).to_be_attached(timeout=5000)
    shopper.locator("#co-name").type(NAME, delay=5)
    shopper.locator("#co-card").type(CARD, delay=5)
    shopper.locator("#pw").type(PASSWORD, delay=5)
    shopper.locator("#co-promo").type(PROMO, delay=5)
    expect(mirror.locator("#co-promo")).to_have_value(PROMO, timeout=5000)
    expect(mirror.locator("#co-card")).to_have_value(re.compile(r"^\*+$"))
    expect(mirror.locator("#pw")).to_have_value(re.compile(r"^\*+$"))
    expect(mirror.locator("#co-name")).to_have_value(re.compile(r"^\*+$"))

    # The customer can see what is hidden.
    shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-hidden-toggle]").click()
    expect(shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-hidden]")).to_contain_text("Card numbers and passwords")
    shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-hidden-toggle]").click()

    # Fidelity: a table, a web font, a shadow DOM component, a same-origin iframe.
    shopper.evaluate("""() => new Promise((done) => {
        const box = document.createElement('section');
        box.id = 'fidelity';
        box.innerHTML = `<style>@font-face { font-family: Demo; src: local('DejaVu Sans'); }
            #fidelity { font-family: Demo, sans-serif; }</style>
            <table><thead><tr><th>Plan</th><th>Price</th></tr></thead>
            <tbody><tr><td>Basic</td><td>$9</td></tr><tr><td>Pro</td><td>$29</td></tr></tbody></table>`;
        const host = document.createElement('price-badge');
        host.attachShadow({mode: 'open'}).innerHTML = '<b>Shadow price: $19</b>';
        box.append(host);
        const frame = document.createElement('iframe');
        box.append(frame);
        document.querySelector('main').prepend(box);
        frame.contentDocument.body.innerHTML = '<p>Inside the iframe: delivery in 2 days</p>';
        // The site masks a component and a frame as a whole: what is inside them is masked too.
        const account = document.createElement('account-badge');
        account.setAttribute('data-otodesk-mask', '');
        account.attachShadow({mode: 'open'}).innerHTML = '<b>Member ${SHADOW_SECRET}</b>';
        box.append(account);
        const statement = document.createElement('iframe');
        statement.setAttribute('data-otodesk-mask', '');
        box.append(statement);
        statement.contentDocument.body.innerHTML = '<p>Account ${FRAME_SECRET}</p>';
        // ...and what a component shows through a <slot> inside its masked wrapper.
        const card = document.createElement('loyalty-card');
        card.attachShadow({mode: 'open'}).innerHTML = '<div data-otodesk-mask><slot></slot></div>';
        card.innerHTML = '<span>Points ${SLOT_SECRET}</span>';
        box.append(card);
        done();
    })""".replace("${SHADOW_SECRET}", SHADOW_SECRET).replace("${FRAME_SECRET}", FRAME_SECRET).replace("${SLOT_SECRET}", SLOT_SECRET))
    replayed = mirror.locator("#fidelity")
    expect(replayed).to_be_attached(timeout=5000)
    assert replayed.locator("tbody").text_content() == shopper.locator("#fidelity tbody").text_content()
    expect(replayed.locator("price-badge")).to_have_text("Shadow price: $19")
    expect(alice.frame_locator("[data-testid=cobrowse-replay] iframe").frame_locator("#fidelity iframe").first
           .locator("p")).to_have_text("Inside the iframe: delivery in 2 days", timeout=5000)
    expect(replayed.locator("account-badge")).to_have_text(re.compile(r"^\*+ \*+$"))
    expect(replayed.locator("loyalty-card span")).to_have_text(re.compile(r"^\*+ \*+$"))

    # Across a page load: a new full snapshot, the agent's view follows.
    shopper.goto(f"{server.base_url}/cart")
    expect(banner).to_be_visible(timeout=5000)
    expect(mirror.locator("[data-testid=cart-lines]")).to_be_attached(timeout=8000)
    expect(mirror.locator("[data-testid=checkout-form]")).to_have_count(0)

    # The agent points at the page's heading: a labelled cursor shows on it.
    heading = mirror.locator("h1").first
    expect(heading).to_be_visible()
    alice.get_by_test_id("cobrowse-replay").scroll_into_view_if_needed()
    box = heading.bounding_box()
    alice.mouse.move(box["x"] + 5, box["y"] + box["height"] / 2)
    alice.mouse.move(box["x"] + 12, box["y"] + box["height"] / 2, steps=3)
    cursor = shopper.locator(f"{CB} [data-testid=otodesk-agent-cursor]")
    expect(cursor).to_be_visible(timeout=5000)
    expect(cursor).to_contain_text("Alice")
    cursor_box = cursor.bounding_box()
    target = shopper.locator("h1").first.bounding_box()
    assert target["x"] - 5 <= cursor_box["x"] <= target["x"] + target["width"], (cursor_box, target)
    assert target["y"] - 5 <= cursor_box["y"] <= target["y"] + target["height"], (cursor_box, target)
    # A click on the mirror rings that element on the customer's page for a moment.
    alice.mouse.click(box["x"] + 12, box["y"] + box["height"] / 2)
    ring = shopper.locator(f"{CB} [data-testid=otodesk-agent-highlight]")
    expect(ring).to_be_visible(timeout=5000)
    ring_box = ring.bounding_box()
    centre = lambda b: (b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)  # the ring animates its scale
    assert all(abs(a - b) < 12 for a, b in zip(centre(ring_box), centre(target))), (ring_box, target)

    # A supervisor joins midway and sees the current page at once.
    visitor = alice.get_by_test_id("cobrowse-panel").get_attribute("data-visitor")
    assert visitor
    sam = login(browser, server, "sam", f"/cobrowse/watch?visitor={visitor}")
    sam_mirror = sam.frame_locator("[data-testid=cobrowse-replay] iframe")
    expect(sam_mirror.locator("[data-testid=cart-lines]")).to_be_attached(timeout=8000)
    expect(banner).to_contain_text("Sam", timeout=5000)

    # Stop sharing works at once: the banner goes, the recorder stops, the mirrors empty.
    shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-stop]").click()
    expect(banner).to_be_hidden()
    sent_at_stop = len(sent)
    shopper.mouse.move(200, 200)
    shopper.mouse.move(400, 300, steps=5)
    expect(alice.get_by_test_id("cobrowse-state")).to_have_attribute("data-state", "stopped", timeout=5000)
    expect(alice.locator("[data-testid=cobrowse-replay] iframe")).to_have_count(0)
    expect(sam.get_by_test_id("cobrowse-state")).to_have_attribute("data-state", "stopped", timeout=5000)
    shopper.wait_for_timeout(300)
    after = [json.loads(frame).get("type") for frame in sent[sent_at_stop:]]
    assert "cobrowse_events" not in after and "cobrowse_chunk" not in after, after

    # The customer's socket was never refused anything.
    assert not [frame for frame in received if '"type":"error"' in frame.replace(" ", "")]
    # Every frame that left the customer's browser: no card number, password or name.
    frames = "\n".join(sent)
    assert '"cobrowse_events"' in frames and PROMO in frames  # the capture works
    assert _secrets_in(frames) == []
    for page in (alice, sam, shopper):
        page.context.close()


def test_pushed_pdf_pages_and_zoom_in_sync_both_ways(browser, server, tmp_path):
    from tests.helpers.pdfgen import pdf_with_pages

    bob = login(browser, server, "bob")
    bob.get_by_test_id("btn-available").click()
    expect(bob.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    shopper = _connected_shopper(browser, server, bob, [])

    # Upload: a fake "image" is refused by its content; a real two-page PDF is accepted.
    fake = tmp_path / "floorplan.png"
    fake.write_bytes(b"<html><script>alert(1)</script></html>")
    bob.get_by_test_id("doc-upload").set_input_files(str(fake))
    expect(bob.get_by_test_id("doc-upload-error")).to_contain_text("use an image or a PDF")  # unsupported_type
    contract = tmp_path / "contract.pdf"
    contract.write_bytes(pdf_with_pages(["Contract page one", "Contract page two"]))
    bob.get_by_test_id("doc-upload").set_input_files(str(contract))
    item = bob.locator("[data-testid^=doc-][data-name='contract.pdf']")
    expect(item).to_be_visible()

    # Push: it opens over the customer's page, rendered by pdf.js.
    item.get_by_test_id("btn-doc-push").click()
    overlay = shopper.locator("otodesk-documents [data-testid=otodesk-doc]")
    expect(overlay).to_be_visible(timeout=5000)
    expect(overlay.get_by_test_id("otodesk-doc-title")).to_have_text("contract.pdf")
    page_text = overlay.get_by_test_id("otodesk-doc-page")
    expect(page_text).to_have_text("Page 1 of 2", timeout=8000)
    expect(overlay.get_by_test_id("otodesk-doc-canvas")).to_have_attribute("data-page", "1")
    remote = bob.get_by_test_id("doc-remote-page")
    expect(remote).to_contain_text("page 1 of 2")

    # The agent turns to page 2: the customer sees page 2.
    bob.get_by_test_id("btn-doc-next").click()
    expect(page_text).to_have_text("Page 2 of 2", timeout=5000)
    expect(overlay.get_by_test_id("otodesk-doc-canvas")).to_have_attribute("data-page", "2")
    expect(remote).to_contain_text("page 2 of 2")
    # The customer goes back and zooms in: the agent sees it.
    overlay.get_by_test_id("otodesk-doc-prev").click()
    overlay.get_by_test_id("otodesk-doc-zoom-in").click()
    expect(remote).to_contain_text("page 1 of 2 · 125%", timeout=5000)
    # The agent zooms out: the customer follows.
    bob.get_by_test_id("btn-doc-zoom-out").click()
    expect(overlay.get_by_test_id("otodesk-doc-zoom")).to_have_text("100%", timeout=5000)

    # The customer can download it; the agent takes it back.
    href = overlay.get_by_test_id("otodesk-doc-download").get_attribute("href")
    response = shopper.request.get(href)
    assert response.status == 200 and response.body().startswith(b"%PDF-")
    bob.get_by_test_id("btn-doc-take-back").click()
    expect(overlay).to_be_hidden(timeout=5000)
    expect(remote).to_have_attribute("data-state", "closed")
    for page in (bob, shopper):
        page.context.close()
