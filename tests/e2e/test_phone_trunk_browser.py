"""The agent's desk says when its phone line (the SIP trunk) fails, and stops saying it when the line is back.

A tour of issue 13 found the desk silent about a trunk that refuses its credentials: the wall
had a grey "Phone trunk: failing (401 Unauthorized)" line, /healthz had ``sip.trunk``, and an
agent learned of it only when a phone callback failed. Here the far end (tests/helpers/sip_peer.py,
on 127.0.0.1) refuses the server's password: the desk loaded then shows the warning (from its
``welcome``), the wall's line is a warning too; once the provider takes the password the next
REGISTER (OTODESK_SIP_REGISTER_RETRY: 1 s here) succeeds and the open desk drops the warning live
(``trunk_state`` to the desk's socket).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, login, require_chromium, snap
from tests.e2e.test_phone_browser import PeerThread
from tests.helpers.server import running_server
from tests.helpers.sip_caller import free_udp_port, trunk_env


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    require_chromium()
    from playwright.sync_api import sync_playwright

    sip_port, our_sip_port = free_udp_port(), free_udp_port()
    peer = PeerThread(port=sip_port, password="not-yet")  # the provider doesn't take ours yet
    env = {**trunk_env(sip_port, our_sip_port, register=True), "OTODESK_SIP_REGISTER_RETRY": "1"}
    try:
        with running_server(tmp_path_factory.mktemp("trunk"), env=env) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                yield server, peer, browser
            finally:
                browser.close()
    finally:
        peer.close()


def test_the_desk_warns_while_the_trunk_refuses_its_credentials_and_not_once_it_registers(rig):
    server, peer, browser = rig
    desk = login(browser, server, "alice")
    banner = desk.get_by_test_id("desk-trunk")
    expect(banner).to_be_visible(timeout=10_000)
    expect(banner).to_have_text(
        "The phone line is failing (401 Unauthorized): phone calls can't be placed or received until it works again")
    wall = login(browser, server, "sam", "/supervisor")
    line = wall.get_by_test_id("wall-trunk")
    expect(line).to_have_attribute("data-warn", "true")
    expect(line).to_have_text("Phone trunk: failing (401 Unauthorized)")
    snap(desk, "trunk-1-desk-failing")
    snap(wall, "trunk-1-wall-failing")

    peer.peer.password = "s3cret"  # the provider's side fixed: the next REGISTER goes through
    expect(banner).to_be_hidden(timeout=10_000)
    expect(line).to_have_attribute("data-state", "registered", timeout=10_000)
    expect(line).to_have_attribute("data-warn", "false")
    expect(line).to_have_text("Phone trunk: registered")
    snap(desk, "trunk-2-desk-registered")
    snap(wall, "trunk-2-wall-registered")
