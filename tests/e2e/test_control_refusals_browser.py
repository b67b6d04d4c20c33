"""The customer's device is the last word on remote control (static/widget/control.js): in
Chromium, on a page of the shop, the widget's refusal check is given the elements a hostile
agent would aim at by node id. Each is a path found in the audit of issue 3: a label whose
control is a password or private field, a submit button with its own ``formaction`` or
belonging by ``form=`` to a form that posts elsewhere, a form whose ``action`` property is
clobbered by an ``<input name=action>``, an SVG link and an image-map area to another site.
Also: Esc pressed before the server has acknowledged "Allow" still takes control back."""

from __future__ import annotations

import pytest

SETUP = """async () => {
  document.body.insertAdjacentHTML('beforeend', `
    <div id="audit">
      <label id="l-pw">Password <input type="password" id="pw"></label>
      <label id="l-card" for="card">Card</label><input id="card" name="cardnumber">
      <div data-otodesk-private><input id="secret" data-otodesk-unmask></div>
      <label id="l-secret" for="secret">Secret</label>
      <label id="l-promo" for="promo">Promo</label><input id="promo" data-otodesk-unmask>
      <form id="f-local" action="/search"><button id="b-formaction" formaction="https://evil.example/steal">Go</button>
        <button id="b-local">Search</button></form>
      <form id="f-evil" action="https://evil.example/post"></form>
      <button id="b-owner" form="f-evil">Send</button>
      <form id="f-clobber" action="https://evil.example/x"><input name="action"><button id="b-clobber">Send</button></form>
      <svg width="20" height="20"><a id="svg-link" href="https://evil.example/svg"><rect id="svg-rect" width="20" height="20"/></a></svg>
      <map name="m"><area id="area" href="https://evil.example/area" shape="rect" coords="0,0,5,5"></map>
      <a id="local-link" href="/cart">Cart</a>
    </div>`);
  const { Control } = await import('/static/widget/control.js');
  const sent = [];
  const socket = { on() {}, notify() {}, send: (type, body) => { sent.push([type, body]); return new Promise(() => {}); } };
  const { BLOCK_SELECTOR, MASK_SELECTOR, UNMASK_SELECTOR } = await import('/static/widget/privacy.js');
  // The widget's words, as the co-browse controller hands them to remote control (English).
  const { createMessages } = await import('/static/common/i18n.js');
  const { default: english } = await import('/static/widget/messages-en.js');
  const cb = { socket, root: document.createElement('div'), options: {}, share: {}, _showNote() {},
               language: createMessages('en', english),
               _selectors: () => ({ block: BLOCK_SELECTOR, mask: MASK_SELECTOR, unmask: UNMASK_SELECTOR }) };
  window.auditControl = new Control(cb);
  window.auditSent = sent;
}"""


@pytest.fixture(scope="module")
def page(browser, server):
    page = browser.new_context().new_page()
    page.goto(f"{server.base_url}/")
    page.evaluate(SETUP)
    yield page
    page.context.close()


@pytest.mark.parametrize(("element", "action", "reason"), [
    ("l-pw", "click", "private"),          # a label wrapping a password field
    ("l-card", "click", "private"),        # label for= a card field elsewhere
    ("l-secret", "click", "private"),      # label for= a field in a private area
    ("b-formaction", "click", "foreign"),  # formaction to another site
    ("b-owner", "click", "foreign"),       # form= a form that posts to another site
    ("b-clobber", "click", "foreign"),     # form.action clobbered by <input name=action>
    ("svg-rect", "click", "foreign"),      # an SVG link (href is an object, not a string)
    ("area", "click", "foreign"),          # an image-map area
    ("l-promo", "click", None),            # a label of an unmasked field: fine
    ("b-local", "click", None),            # a same-site form: fine
    ("local-link", "click", None),         # a same-site link: fine
])
def test_device_refuses_hostile_targets(page, element, action, reason):
    got = page.evaluate("([id, action]) => window.auditControl._refusal(document.getElementById(id), action)",
                        [element, action])
    assert got == reason


def test_esc_before_the_servers_reply_takes_control_back(page):
    page.evaluate("""() => {
      const control = window.auditControl;
      control._asked({ request_id: 'r1', agent_name: 'Mallory' });
      control._allow(true);  // the reply never comes (the socket above never answers)
    }""")
    assert page.evaluate("window.auditControl.agent") == "Mallory"
    page.keyboard.press("Escape")
    assert page.evaluate("window.auditControl.agent") is None
    sent = page.evaluate("window.auditSent.map(([type]) => type)")
    assert sent == ["cobrowse_control_answer", "cobrowse_control_revoke"]


def test_a_click_in_a_same_origin_frame_takes_control_back(page):
    """Events in a frame never reach the top window: the frame is watched once control is given."""
    page.evaluate("""() => new Promise((done) => {
      const frame = document.createElement('iframe');
      frame.id = 'audit-frame';
      frame.style.cssText = 'position:fixed;left:0;top:0;width:300px;height:200px;z-index:2147483000';
      frame.onload = done;
      frame.srcdoc = '<p style="height:180px">Delivery form</p>';
      document.body.append(frame);
    })""")
    page.evaluate("""() => {
      window.auditControl._asked({ request_id: 'r2', agent_name: 'Mallory' });
      window.auditControl._allow(true);
    }""")
    assert page.evaluate("window.auditControl.agent") == "Mallory"
    page.mouse.click(100, 100)  # inside the frame
    assert page.evaluate("window.auditControl.agent") is None
    page.evaluate("document.getElementById('audit-frame').remove()")


def test_what_is_hidden_view_shows_the_sites_own_selectors(browser, server):
    """A site that hides areas with its own selectors (``otodesk.cobrowseOptions``) sees them
    outlined in the customer's "what is hidden" view, as the recorder hides them."""
    page = browser.new_context().new_page()
    page.goto(f"{server.base_url}/")
    page.wait_for_function("window.otodesk")
    got = page.evaluate("""async () => {
      document.body.insertAdjacentHTML('afterbegin',
        '<div class="site-secret" style="width:200px;height:40px">Account 12</div>' +
        '<p class="site-mask" style="width:200px;height:20px">Balance: 1,204.00</p>');
      window.otodesk.cobrowseOptions = { block: '.site-secret', mask: '.site-mask' };
      const { start } = await import('/static/widget/cobrowse.js?audit');
      const { createMessages } = await import('/static/common/i18n.js');
      const { default: english } = await import('/static/widget/messages-en.js');
      const cb = start({ on() {}, notify() {}, send: () => new Promise(() => {}), ready: false },
                       { base: '', language: createMessages('en', english) });
      cb._toggleHidden();
      return { text: cb.hiddenList.textContent, boxes: cb.boxes.children.length,
               marked: ['.site-secret', '.site-mask'].map((s) => {
                 const r = document.querySelector(s).getBoundingClientRect();
                 return [...cb.boxes.children].some((b) => Math.abs(parseFloat(b.style.left) - (r.left - 3)) < 1
                                                        && Math.abs(parseFloat(b.style.top) - (r.top - 3)) < 1);
               }) };
    }""")
    assert "2 areas the site marked private" in got["text"]
    assert got["marked"] == [True, True]
    page.context.close()


def test_what_is_hidden_view_looks_into_components_and_same_origin_frames(browser, server):
    """The recorder hides private areas inside an open shadow root and a same-origin frame
    too, so the customer's "what is hidden" view names them and outlines each where it is
    on screen; an area scrolled out of its frame's view is counted but not outlined."""
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    page.goto(f"{server.base_url}/plans")
    page.wait_for_function("window.otodesk")
    frame = page.frame_locator("[data-testid=plans-frame]")
    frame.locator("[data-testid=delivery-text]").wait_for()
    page.locator("[data-testid=plans-frame]").scroll_into_view_if_needed()
    got = page.evaluate("""async () => {
      const badge = document.querySelector('nova-plan-badge').shadowRoot;
      badge.append(Object.assign(document.createElement('span'),
        { id: 'in-shadow', textContent: 'Member 0042', style: 'display:inline-block;width:120px;height:20px' }));
      badge.getElementById('in-shadow').setAttribute('data-otodesk-private', '');
      const doc = document.querySelector('[data-testid=plans-frame]').contentDocument;
      doc.body.insertAdjacentHTML('afterbegin',
        '<p id="in-frame" data-otodesk-mask style="width:160px;height:18px;margin:0">Order 7731</p>');
      doc.body.insertAdjacentHTML('beforeend',
        '<p id="below" data-otodesk-private style="margin-top:400px;height:18px">Out of view</p>');
      const { start } = await import('/static/widget/cobrowse.js?hidden-deep');
      const { createMessages } = await import('/static/common/i18n.js');
      const { default: english } = await import('/static/widget/messages-en.js');
      const cb = start({ on() {}, notify() {}, send: () => new Promise(() => {}), ready: false },
                       { base: '', language: createMessages('en', english) });
      cb._toggleHidden();
      return { text: cb.hiddenList.textContent,
               boxes: [...cb.boxes.children].map((b) => ({ where: b.dataset.where,
                 x: parseFloat(b.style.left) + 3, y: parseFloat(b.style.top) + 3,
                 width: parseFloat(b.style.width) - 6, height: parseFloat(b.style.height) - 6 })) };
    }""")
    assert "3 areas the site marked private (1 inside a page component and 2 inside an embedded frame)" in got["text"]
    # Playwright's boxes are on the top page's viewport, frames and shadow roots included.
    targets = {"component": page.locator("nova-plan-badge #in-shadow").bounding_box(),
               "frame": frame.locator("#in-frame").bounding_box()}
    for where, target in targets.items():
        assert any(box["where"] == where and all(abs(box[k] - target[k]) < 1 for k in ("x", "y", "width", "height"))
                   for box in got["boxes"]), (where, target, got["boxes"])
    assert [box["where"] for box in got["boxes"]].count("frame") == 1  # "#below" is outside the frame's view
    page.context.close()


def test_the_widget_loads_lazily_and_no_recorder_is_fetched_before_consent(browser, server):
    """What the shop's page fetches, as Chromium saw it on the wire: the widget proper is
    requested only after the page's own load event; neither the rrweb recorder nor the
    co-browse module is fetched while nobody has asked (and the customer has not agreed)."""
    page = browser.new_context().new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server.base_url}/product/nimbus-headphones")
    page.wait_for_function("window.otodesk && window.otodesk.loaded && document.querySelector('[data-otodesk]')")
    page.wait_for_timeout(1000)
    assert any(url.endswith("/widget.js") for url in requested)
    assert not [url for url in requested if "rrweb" in url or "cobrowse" in url or "pdf" in url]
    timing = page.evaluate(r"""() => {
      const nav = performance.getEntriesByType('navigation')[0];
      // The bundle (static/dist/widget/<version>/widget.js) or, unbuilt, the plain module.
      const widget = performance.getEntriesByType('resource').find((e) => /\/static\/(dist\/)?widget\/([0-9a-f]+\/)?widget\.js$/.test(e.name));
      return { load: nav.loadEventStart, widget: widget ? widget.startTime : null };
    }""")
    assert timing["widget"] is not None and timing["widget"] >= timing["load"]
    page.context.close()
