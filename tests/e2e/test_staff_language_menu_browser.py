"""The staff pages' language menu (the top bar's profile menu), as a person reads it: its
chosen entry is whole at a laptop's width, in every language (found on a tour of issue 14:
"Browser's lar" on the desk, the wall and the admin console at 1280 px), and the top bar still
fits a 700 px tablet and a 390 px phone with Sign out on screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

#: Whether the select shows its chosen option's whole text: its content box against the text's
#: width in the select's own font.
CHOSEN_FITS = """(select) => {
    const style = getComputedStyle(select);
    const context = document.createElement("canvas").getContext("2d");
    context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const text = select.options[select.selectedIndex].text;
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;  // the arrow
    return {text, needed: Math.ceil(context.measureText(text).width), room};
}"""


#: Who opens each staff page.
USERS = {"/desk": "alice", "/supervisor": "sam", "/planner": "pat", "/admin": "admin"}


@pytest.mark.parametrize("path", list(USERS))
def test_the_chosen_language_reads_whole_at_every_width(browser, server, path):
    page = login(browser, server, USERS[path], path)
    menu = page.get_by_test_id("my-locale")
    # On a laptop, a tablet and a phone the chosen entry reads whole and lies on the screen
    # (a 9em cap cut it to "Browser's lar" at 390 px on the desk, the wall and the planner),
    # the bar still fits and Sign out stays on screen (the desk's ran 40 px off a 700 px screen).
    for width in (1280, 700, 390):
        page.set_viewport_size({"width": width, "height": 844})
        fit = menu.evaluate(CHOSEN_FITS)
        assert fit["text"] == "Browser's language" and fit["needed"] <= fit["room"], (width, fit)
        box = menu.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        expect(menu).to_be_in_viewport(ratio=1)
        expect(page.get_by_test_id("btn-logout")).to_be_in_viewport()
        assert page.evaluate("document.documentElement.scrollWidth") <= width, width
    page.context.close()


#: Each element's text, line boxes, font size and box.
LINES = """(elements) => elements.map((e) => {
    const box = e.getBoundingClientRect();
    return {text: e.textContent.trim().replace(/\\s+/g, " "), lines: e.getClientRects().length,
            size: parseFloat(getComputedStyle(e).fontSize), top: box.top, height: box.height, right: box.right};
})"""


def test_the_demo_shops_header_reads_whole_on_a_phone(browser, server):
    """At 390 px the shop's name reads on one line and its links in one row, on the screen
    ("Nova Electronics" broke in two and "Sign in" fell under "Shop")."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{server.base_url}/")
    brand, *links = page.locator(".site-header .brand, .site-header nav a").evaluate_all(LINES)
    assert brand["text"] == "◆ Nova Electronics" and brand["height"] < 2 * brand["size"], brand
    assert [link["text"] for link in links] == ["Shop", "Cart 0", "Sign in"], links
    assert len({round(link["top"]) for link in links}) == 1, links
    for part in (brand, *links):
        assert part["lines"] == 1 and part["right"] <= 390, part
    page.close()
