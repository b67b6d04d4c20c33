"""A rolling restart behind Debian's nginx, with a voice call in real Chromium and bots
making callbacks: the call goes on and no callback is lost or taken twice.

Inside one network namespace (tests/helpers/netns.py): a redis-server of the test's own,
processes ``a`` and ``b`` sharing one SQLite file, and in front of them nginx with
deploy/nginx.conf (tests/helpers/nginx.py), listening on ``SERVER_ADDRESS``. Both browsers
and every bot use nginx's URL, which is also the processes' public origin (the sockets'
Origin check). nginx spreads pages and sockets over both processes as it likes.

The customer's browser and the agent's (the desk's first ``voice_offer`` held back until the
customer's leg is up, as in test_voice_move_browser.py) talk; whichever process got the
customer's offer anchors the call (read from Redis). Bot customers ask for callbacks on
another queue and two bot agents take them, all the while. Then, as `systemctl restart` of
one unit and then the other:

1. SIGTERM to the process not anchoring the call: it exits and is started again; the call
   goes on untouched (no leg remade, both hear each other).
2. SIGTERM to the anchoring one, with OTODESK_DRAIN_SECONDS=8: during the drain the call stays
   where it is (the sockets went to the other process, which reaches it over Redis); when
   the drain ends the call is released and the other process takes it over, as when an
   anchor dies: both legs are remade there, both hear each other, the talk time runs on.
   The process is started again.

Afterwards every bot callback was answered exactly once and completed (the bots' record and
the database agree), and the agent hangs up into wrap-up.
"""

from __future__ import annotations

import collections
import signal
import sqlite3
import time

from playwright.sync_api import expect

from tests.e2e.conftest import require_chromium, snap
from tests.e2e.test_voice_browser import (AGENT_HZ, CUSTOMER_HZ, DESK, W, WIDGET, heard, launch_speaking,
                                          talk_seconds, write_tone)
from tests.e2e.test_voice_move_browser import HeldOffers, anchoring_processes, call_anchored_on_a
from tests.helpers.callback_load import CallbackLoad
from tests.helpers.cluster import two_processes
from tests.helpers.netns import SERVER_ADDRESS, network_namespace, require_netns
from tests.helpers.nginx import nginx_in_front
from tests.helpers.server import free_port

REDIS_PORT = 6393
DRAIN_SECONDS = 8


def restart(process) -> None:
    """SIGTERM, wait for the exit, start again: what systemd does for `systemctl restart`."""
    process.process.send_signal(signal.SIGTERM)
    code = process.process.wait(DRAIN_SECONDS + 20)
    assert code in (0, -signal.SIGTERM), process.log()
    process.start()


def voice_states(agent, customer) -> tuple[str, str]:
    return (agent.get_by_test_id("voice-panel").get_attribute("data-state"),
            customer.locator(f"{W} [data-testid=otodesk-voice]").get_attribute("data-state"))


def legs_remade(agent, customer) -> tuple[int, int]:
    """Legs each browser has remade (-1: it has no leg at all, its call over)."""
    return (agent.evaluate("window.otodeskDeskVoice.link ? window.otodeskDeskVoice.link.reconnects : -1"),
            customer.evaluate("window.otodesk.voice.link ? window.otodesk.voice.link.reconnects : -1"))


def both_hear(agent, customer) -> None:
    heard(agent, DESK.format(slot=0), CUSTOMER_HZ, timeout=10)
    heard(customer, WIDGET.format(slot=0), AGENT_HZ, timeout=10)


def test_a_rolling_restart_behind_nginx_keeps_the_browsers_call_and_every_callback(tmp_path):
    require_netns()
    require_chromium()
    from playwright.sync_api import sync_playwright

    with network_namespace():
        front = free_port()
        public = f"http://{SERVER_ADDRESS}:{front}"
        env = {"OTODESK_OFFER_TIMEOUT": "20", "OTODESK_DRAIN_SECONDS": str(DRAIN_SECONDS),
               "OTODESK_PUBLIC_ORIGINS": public, "OTODESK_TRUSTED_PROXIES": SERVER_ADDRESS,
               "OTODESK_CALLME_PER_ADDRESS": "1000"}
        (tmp_path / "nginx").mkdir()
        with two_processes(tmp_path, redis_port=REDIS_PORT, env=env) as (a, b), \
                nginx_in_front(tmp_path / "nginx", front, [a.port, b.port], host=SERVER_ADDRESS) as base_url, \
                sync_playwright() as playwright:
            assert base_url == public
            browsers = [launch_speaking(playwright, write_tone(tmp_path / f"{role}.wav", hz), base_url)
                        for role, hz in (("customer", CUSTOMER_HZ), ("agent", AGENT_HZ))]
            try:
                _journey(a, b, base_url, *browsers, db=tmp_path / "shared.db")
            finally:
                for browser in browsers:
                    browser.close()


def _journey(a, b, base_url: str, customer_browser, agent_browser, *, db) -> None:
    context = agent_browser.new_context()
    offers = HeldOffers(context)
    agent = context.new_page()
    customer = customer_browser.new_context().new_page()
    # bob takes "sales" only, the browser's queue; the bots call "support" (alice, carol).
    call_anchored_on_a(agent, customer, base_url, offers, "Nginx Nina", username="bob")
    [anchoring] = anchoring_processes(port=REDIS_PORT)
    anchor, other = (a, b) if anchoring == "a" else (b, a)
    print(f"the call is anchored on {anchoring}")
    snap(agent, "rolling-1-desk-in-call")
    snap(customer, "rolling-1-widget-in-call")

    with CallbackLoad(base_url, agents=("alice", "carol"), queue="support", every=0.4) as load:
        time.sleep(2)
        # 1. The process not anchoring the call restarts: the call never notices.
        restart(other)
        both_hear(agent, customer)
        assert voice_states(agent, customer) == ("active", "active")
        assert legs_remade(agent, customer) == (0, 0)
        snap(agent, "rolling-2-desk-after-first-restart")

        # 2. The anchoring process stops: the call stays on it while it drains...
        before = talk_seconds(agent)
        stopped_at = time.monotonic()
        anchor.process.send_signal(signal.SIGTERM)
        time.sleep(DRAIN_SECONDS / 2)
        assert anchor.process.poll() is None, "the anchoring process stopped before its drain time"
        both_hear(agent, customer)
        assert voice_states(agent, customer) == ("active", "active")
        assert legs_remade(agent, customer) == (0, 0), "a leg was remade during the drain"
        snap(customer, "rolling-3-widget-during-drain")
        # ...then, its drain time over, it lets the call go: the other process takes it over.
        # (Polled from here: the desk's Content-Security-Policy refuses wait_for_function's eval.)
        deadline = stopped_at + DRAIN_SECONDS + 20
        while legs_remade(agent, customer)[0] <= 0:
            assert time.monotonic() < deadline, f"the call never moved: {voice_states(agent, customer)}"
            time.sleep(0.2)
        moved = time.monotonic() - stopped_at
        print(f"the call moved {moved:.1f} s after SIGTERM (drain {DRAIN_SECONDS} s)")
        assert moved >= DRAIN_SECONDS - 1, f"the call moved {moved:.1f} s after SIGTERM, before the drain ended"
        expect(agent.get_by_test_id("voice-panel")).to_have_attribute("data-state", "active", timeout=20000)
        expect(customer.locator(f"{W} [data-testid=otodesk-voice]")).to_have_attribute("data-state", "active",
                                                                                       timeout=20000)
        assert customer.evaluate("window.otodesk.voice.link.reconnects") >= 1
        # Remade at the server's word that the anchor moved, not seconds later on hearing nothing.
        assert customer.evaluate("window.otodesk.voice.link.anchorLosses") >= 1
        assert agent.evaluate("window.otodeskDeskVoice.link.anchorLosses") >= 1
        both_hear(agent, customer)
        assert talk_seconds(agent) >= before + int(moved), (talk_seconds(agent), before, moved)
        assert anchoring_processes(port=REDIS_PORT).count(other.env["OTODESK_PROCESS_ID"]) == 1
        snap(agent, "rolling-4-desk-after-the-move")
        snap(customer, "rolling-4-widget-after-the-move")
        code = anchor.process.wait(20)
        assert code in (0, -signal.SIGTERM), anchor.log()
        anchor.start()
        time.sleep(2)
        load.finish(within=30)

    # Every bot callback answered once and completed: the bots' record...
    assert not load.lost(), f"{len(load.lost())} of {len(load.asked)} callbacks lost: {load.lost()}"
    assert len(load.asked) >= 10, load.asked
    taken_twice = {c: load.trace[c] for c in load.asked if load.accepted[c] != 1}
    assert not taken_twice, f"taken more than once: {taken_twice}"
    # ...and the database's: each callback completed, accepted once, and never offered while an
    # offer of it was still out (one withdrawn as its agent's socket moved is offered again).
    with sqlite3.connect(db) as conn:
        states = dict(conn.execute("SELECT id, state FROM callbacks WHERE queue = 'support'").fetchall())
        offers = collections.defaultdict(list)
        for callback_id, offered_at, ended_at, outcome in conn.execute(
                "SELECT callback_id, offered_at, ended_at, outcome FROM offers ORDER BY offered_at"):
            offers[callback_id].append((offered_at, ended_at, outcome))
    assert set(states) == set(load.asked) and set(states.values()) == {"completed"}, collections.Counter(states.values())
    for callback_id in load.asked:
        made = offers[callback_id]
        assert [outcome for *_, outcome in made].count("accepted") == 1, (made, load.trace[callback_id])
        assert all(ended is not None and ended <= later for (_, ended, _), (later, *_) in zip(made, made[1:])), \
            (made, load.trace[callback_id])
    again = {c: [outcome for *_, outcome in offers[c]] for c in load.asked if len(offers[c]) > 1}
    print(f"{len(load.asked)} bot callbacks through two restarts; offered again: {again}")

    agent.get_by_test_id("btn-hangup").click()
    expect(agent.get_by_test_id("contact-view")).to_have_attribute("data-state", "wrap_up", timeout=8000)
    expect(customer.locator(f"{W} [data-testid=otodesk-voice]")).to_be_hidden(timeout=8000)
    snap(agent, "rolling-5-desk-wrap-up")
