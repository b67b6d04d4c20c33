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


@pytest.mark.parametrize("path", ["/desk", "/admin"])
def test_the_chosen_language_reads_whole_at_a_laptops_width(browser, server, path):
    page = login(browser, server, "admin" if path == "/admin" else "alice", path)
    page.set_viewport_size({"width": 1280, "height": 860})
    menu = page.get_by_test_id("my-locale")
    fit = menu.evaluate(CHOSEN_FITS)
    assert fit["text"] == "Browser's language" and fit["needed"] <= fit["room"], fit
    # On a tablet and a phone the bar still fits and Sign out stays on screen (the desk's ran
    # 40 px off a 700 px screen).
    for width in (700, 390):
        page.set_viewport_size({"width": width, "height": 844})
        expect(page.get_by_test_id("btn-logout")).to_be_in_viewport()
        assert page.evaluate("document.documentElement.scrollWidth") <= width, width
    page.context.close()
