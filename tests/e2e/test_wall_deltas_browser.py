"""The wall follows the floor by deltas after its first whole wall, as a supervisor sees it in
Chromium: an agent going available, away and signing out; a delta lost on the way is never
applied to the wrong wall (the page asks for a whole one and shows the truth); after a reload
the wall is right and follows again. The wall's socket runs through Playwright, which keeps
what the server sent and can lose one ``wall_delta`` (renumbering the room's events after it,
as when the bus never got it, so only the wall's own numbering can tell)."""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import expect

from desktop.demo.seed import DEMO_PASSWORD
from tests.e2e.conftest import login
from tests.e2e.test_callback_browser import go_available, go_away


class WallSocket:
    """Routes /ws/supervisor through Playwright: ``received`` is what reached the page."""

    def __init__(self, context):
        self.received: list[dict] = []
        self.sent: list[dict] = []
        self.lost: list[dict] = []
        self.lose_next = False
        context.route_web_socket(re.compile(r".*/ws/supervisor$"), self._route)

    def _route(self, ws) -> None:
        server = ws.connect_to_server()
        gone = 0  # room events lost on this socket: later ones are renumbered

        def from_page(message) -> None:
            self.sent.append(json.loads(message))
            server.send(message)

        def from_server(message) -> None:
            nonlocal gone
            data = json.loads(message)
            if self.lose_next and data.get("type") == "wall_delta":
                self.lose_next = False
                self.lost.append(data)
                gone += 1
                return
            if gone and isinstance(data.get("seq"), int) and data.get("type") not in ("welcome", "resumed"):
                data["seq"] -= gone
                message = json.dumps(data)
            self.received.append(data)
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)

    def kinds(self, since: int = 0) -> list[str]:
        return [m["type"] for m in self.received[since:] if m["type"] in ("welcome", "wall", "wall_delta")]


def _row(wall, username: str):
    return wall.get_by_test_id(f"agent-{username}")


def test_the_wall_follows_by_deltas_never_applies_one_to_the_wrong_wall_and_is_right_after_a_reload(browser, server):
    context = browser.new_context()
    frames = WallSocket(context)
    wall = context.new_page()
    wall.goto(f"{server.base_url}/supervisor")
    wall.fill("input[name=username]", "sam")
    wall.fill("input[name=password]", DEMO_PASSWORD)
    wall.click("button[type=submit]")
    wall.wait_for_url("**/supervisor")
    expect(wall.get_by_test_id("wall-queue-sales")).to_be_visible()
    alice = login(browser, server, "alice")
    try:
        # After the first whole wall, her states arrive as deltas and show.
        start = len(frames.received)
        go_available(alice)
        expect(_row(wall, "alice").get_by_test_id("agent-state")).to_have_attribute("data-state", "available", timeout=5000)
        go_away(alice)
        expect(_row(wall, "alice").get_by_test_id("agent-state")).to_have_attribute("data-state", "away", timeout=5000)
        expect(_row(wall, "alice").get_by_test_id("agent-reason")).to_have_text("Break")
        told = {(row["username"], row["state"]) for m in frames.received[start:] if m["type"] == "wall_delta"
                for row in m["agents"]}
        # By deltas (one of the two may have fallen on the minute's whole wall, never both).
        assert told & {("alice", "available"), ("alice", "away")}

        # The delta that tells her available is lost: the page keeps what it showed, applies
        # nothing after it, asks for a whole wall and shows her available from it.
        frames.lose_next = True
        start = len(frames.received)
        go_available(alice)
        deadline = time.monotonic() + 5
        while not frames.lost:
            assert time.monotonic() < deadline, "no wall_delta came to lose"
            wall.wait_for_timeout(50)
        expect(_row(wall, "alice").get_by_test_id("agent-state")).to_have_attribute("data-state", "away")
        expect(_row(wall, "alice").get_by_test_id("agent-state")).to_have_attribute("data-state", "available", timeout=10_000)
        assert [m["type"] for m in frames.sent if m["type"] == "wall_resync"] == ["wall_resync"]
        assert "wall" in frames.kinds(start)

        # Reloaded, the wall is right (the newest whole wall and the deltas after it) and follows on.
        wall.reload()
        expect(_row(wall, "alice").get_by_test_id("agent-state")).to_have_attribute("data-state", "available", timeout=5000)
        start = len(frames.received)
        go_away(alice)
        expect(_row(wall, "alice").get_by_test_id("agent-state")).to_have_attribute("data-state", "away", timeout=5000)
        # Signed out, she leaves the wall (a delta that removes her row).
        alice_id = _row(wall, "alice").get_attribute("data-agent-id")
        alice.get_by_test_id("btn-logout").click()
        expect(_row(wall, "alice")).to_have_count(0, timeout=5000)
        assert any(alice_id in m["agents_removed"] for m in frames.received[start:] if m["type"] == "wall_delta") \
            or "wall" in frames.kinds(start)  # unless the minute's whole wall came just then
    finally:
        alice.context.close()
        context.close()
