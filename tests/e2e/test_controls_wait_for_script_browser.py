"""A button that looks pressable while the page's script is still on its way would lose the
press: the staff pages render their script-driven controls disabled and enable them once
wired. Seen in CI under load: "Available" pressed before desk.js had run left the agent away;
"Add a queue" opened nothing."""

from __future__ import annotations

from playwright.sync_api import expect

from desktop.demo.seed import DEMO_PASSWORD


class HeldScript:
    """A staff page logged in, with one of its scripts held back until ``release()``."""

    def __init__(self, browser, server, username: str, path: str, script: str):
        self.held = []
        self.page = browser.new_context().new_page()
        self.page.goto(f"{server.base_url}{path}")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", DEMO_PASSWORD)
        self.page.route(f"**{script}", lambda route: self.held.append(route))
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"**{path}", wait_until="commit")
        for _ in range(100):
            if self.held:
                break
            self.page.wait_for_timeout(50)
        assert self.held, f"{script} was never asked for"

    def release(self):
        for route in self.held:
            route.continue_()


def test_available_pressed_before_the_desks_script_ran_makes_the_agent_available(browser, server):
    held = HeldScript(browser, server, "alice", "/desk", "/static/desk/desk.js")
    desk = held.page
    expect(desk.get_by_test_id("btn-available")).to_be_disabled()
    expect(desk.get_by_test_id("btn-away")).to_be_disabled()
    held.release()
    desk.get_by_test_id("btn-available").click()
    expect(desk.get_by_test_id("desk-state")).to_have_attribute("data-state", "available", timeout=15000)
    desk.get_by_test_id("btn-away").click()
    expect(desk.get_by_test_id("desk-state")).to_have_attribute("data-state", "away", timeout=15000)
    desk.context.close()


def test_add_a_queue_pressed_before_the_consoles_script_ran_opens_the_dialog(browser, server):
    held = HeldScript(browser, server, "admin", "/admin", "/static/admin/admin.js")
    admin = held.page
    for button in ("queue-new", "user-new", "webhook-add", "widget-save"):
        expect(admin.get_by_test_id(button)).to_be_disabled()
    held.release()
    admin.get_by_test_id("queue-new").click()
    expect(admin.get_by_test_id("queue-dialog")).to_be_visible(timeout=15000)
    admin.context.close()


def test_new_action_pressed_before_the_planners_script_ran_opens_the_editor(browser, server):
    held = HeldScript(browser, server, "pat", "/planner", "/static/planner/planner.js")
    planner = held.page
    expect(planner.get_by_test_id("btn-new-action")).to_be_disabled()
    held.release()
    planner.get_by_test_id("btn-new-action").click()
    expect(planner.get_by_test_id("field-id")).to_be_editable(timeout=15000)
    expect(planner.get_by_test_id("field-id")).to_have_value("")
    planner.context.close()


def test_sign_in_security_opens_beside_the_desk_not_over_it(browser, server):
    """The desk carries the agent's call: its top bar's "Sign-in security" opens in a new tab
    (as "Customers" does); it took the agent off the desk mid-call (a tour found it)."""
    from tests.e2e.conftest import login

    desk = login(browser, server, "alice", "/desk")
    with desk.context.expect_page() as opened:
        desk.get_by_test_id("my-security").click()
    expect(opened.value).to_have_url(f"{server.base_url}/profile/security")
    assert desk.url == f"{server.base_url}/desk"
    expect(desk.get_by_test_id("desk-state")).to_be_visible()
    desk.context.close()
