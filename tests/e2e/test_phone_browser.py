"""A phone callback that really dials, in Chromium: the agent accepts, the server dials the far end.

The server, the agent's Chromium (its microphone an 880 Hz WAV) and the SIP
far end (tests/helpers/sip_peer.py, on its own asyncio loop in a thread) all
live in a network namespace of their own; SIP and RTP go over its 127.0.0.1.
The far end plays 525 Hz early media while it rings, then answers with
440 Hz. The desk says dialling (the far end waits 0.6 s before it rings, and
a MutationObserver keeps every state the desk showed), ringing, then the call; the agent hears the
ringback, then the phone; the phone hears the agent; the shopper's widget says
"Your phone is ringing" and "Connected" only once the phone has answered; the
phone holds the call (a re-INVITE) and the desk says so, then resumes it; the
phone hanging up ends the call on both pages. A busy phone: the desk says so
and the customer's full timeline has "Attempt 1 to +44…: busy (486)" and the
retry. sipp, in the far end's place for one test, answers in G.711 A-law and
plays its own recording of speech (play_pcap_audio): the desk's received track
is silent, then loud.

Then someone phones in (tests/helpers/sip_caller.py, the trunk's proxy address):
the desk offers an *Incoming phone call* from an *Unknown caller*, the agent
accepts, each hears the other (the caller's 440 Hz, the agent's 880 Hz), the
wall counts the call, and the caller's hang-up sends the agent to wrap-up.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, require_chromium, snap
from signaling.media.recorder import read_audio
from signaling.media.tones import HOLD_TONE_HZ
from tests.e2e.test_voice_browser import (
    AGENT_HZ, DESK, SUPERVISOR_HZ, WALL, heard, launch_speaking, login, loudest, the_recording, write_tone,
)
from tests.helpers.netns import SERVER_ADDRESS, VOICE_ENV, network_namespace, require_netns
from tests.helpers.server import ServerProcess
from tests.helpers.sip_caller import Caller, free_udp_port, trunk_env
from tests.helpers.sipp import Sipp
from tests.helpers.sip_peer import PeerThread, dominant_hz

W = "otodesk-widget"
NUMBER = "+442079460123"  # a UK drama number (Ofcom): valid, never anyone's
RECORDED_NUMBER = "+442079460124"
BUSY_NUMBER = "+442079460127"
SIPP_NUMBER = "+442079460128"
PHONE_HZ = 440  # what the far end plays once answered
SIPP_SPEECH = Path("/usr/share/sip-tester/g711a.pcap")  # Debian's sip-tester: speech, G.711 A-law
LINE = "+442079460500"    # the number callers dial (OTODESK_SIP_INBOUND)


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    require_netns()
    require_chromium()
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("phone")
    with network_namespace():
        sip_port, our_sip_port = free_udp_port(), free_udp_port()
        peer = PeerThread(port=sip_port, behaviour="early", ring_seconds=2.5)
        server = ServerProcess(tmp / "var", env={
            "OTODESK_HOST": SERVER_ADDRESS, **VOICE_ENV, "OTODESK_DEFAULT_REGION": "GB",
            **trunk_env(sip_port, our_sip_port, register=True),
            "OTODESK_SIP_INBOUND": f"{LINE}=sales", "OTODESK_VOICE_RECORDING": "support",
            "OTODESK_PHONE_RETRY_DELAY": "3600"})  # a busy test's retry never comes back mid-module
        server.our_sip_port, server.sip_port = our_sip_port, sip_port
        server.base_url = f"http://{SERVER_ADDRESS}:{server.port}"
        try:
            server.start()
            with sync_playwright() as playwright:
                agent = launch_speaking(playwright, write_tone(tmp / "agent.wav", AGENT_HZ), server.base_url)
                supervisor = launch_speaking(playwright, write_tone(tmp / "supervisor.wav", SUPERVISOR_HZ),
                                             server.base_url)
                shopper = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                     args=["--no-sandbox", "--disable-gpu"])
                try:
                    yield server, peer, agent, shopper, supervisor
                finally:
                    agent.close()
                    supervisor.close()
                    shopper.close()
        finally:
            server.stop()
            peer.close()


def ask_for_a_phone_call(shopper_browser, server, *, name: str, queue: str, number: str):
    """A shopper's page on the shop that asked the widget to call ``number``."""
    shopper = shopper_browser.new_context().new_page()
    shopper.goto(f"{server.base_url}/")
    shopper.locator(f"{W} [data-testid=otodesk-launcher]").click()
    form = shopper.locator(f"{W} [data-testid=otodesk-form]")
    form.locator("[name=name]").fill(name)
    form.locator("[name=queue]").select_option(queue)
    shopper.locator(f"{W} [data-testid=otodesk-channel-phone]").check(force=True)
    shopper.locator(f"{W} [name=phone]").fill(number)
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()
    return shopper


def available(agent) -> None:
    """The desk available, after wrapping up what an earlier test of the module left in wrap-up."""
    expect(agent.get_by_test_id("desk-state")).not_to_have_attribute("data-state", "offline")
    if agent.get_by_test_id("desk-state").get_attribute("data-state") == "wrap_up":
        agent.get_by_test_id("wrapup-disposition").select_option("Resolved")
        agent.get_by_test_id("btn-wrapup").click()
    else:
        agent.get_by_test_id("btn-available").click()
    expect(agent.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")


def seen_states(page) -> None:
    """Keep in ``window.__phoneStates`` each change of the voice panel's phone state and the call
    line's text, ``[data-phone, text]``, from now on (seen by a MutationObserver: none missed)."""
    page.evaluate("""() => {
        window.__phoneStates = [];
        const note = () => {
            const panel = document.querySelector("[data-testid=voice-panel]");
            const line = document.querySelector("[data-testid=voice-state]");
            const now = [panel ? panel.dataset.phone || "" : "", line ? line.textContent : ""];
            const last = window.__phoneStates[window.__phoneStates.length - 1];
            if (!last || last[0] !== now[0] || last[1] !== now[1]) window.__phoneStates.push(now);
        };
        new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true,
                                                            attributes: true, attributeFilter: ["data-phone"]});
    }""")


def test_agent_accepts_a_phone_callback_hears_the_phone_and_the_widget_waits_for_the_answer(rig):
    server, peer, agent_browser, shopper_browser, _ = rig
    # The trunk registered with the far end's digest challenge before anyone asked.
    assert "registered" in peer.peer.log
    wall = login(shopper_browser, server, "sam", "/supervisor")
    expect(wall.get_by_test_id("wall-trunk")).to_have_attribute("data-state", "registered", timeout=5000)
    expect(wall.get_by_test_id("wall-trunk")).to_have_text("Phone trunk: registered")
    agent = login(agent_browser, server, "alice")
    agent.get_by_test_id("btn-available").click()
    expect(agent.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")

    shopper = ask_for_a_phone_call(shopper_browser, server, name="Pat Phone", queue="sales", number=NUMBER)

    expect(agent.get_by_test_id("offer-card")).to_be_visible(timeout=8000)
    # What the desk's call line says, each change from the accept on (the far end waits 0.6 s
    # before it rings, as a real network takes: the desk must say "Dialling" meanwhile).
    seen_states(agent)
    peer.set(trying_seconds=0.6)
    agent.get_by_test_id("btn-accept").click()
    panel = agent.get_by_test_id("voice-panel")
    widget_state = shopper.locator(f"{W} [data-testid=otodesk-state]")
    # Ringing (183 with early media): the agent hears the far end's ringback; the widget
    # says the phone rings and nobody says "connected".
    expect(panel).to_have_attribute("data-phone", "ringing", timeout=8000)
    expect(agent.get_by_test_id("voice-state")).to_contain_text(f"Ringing {NUMBER}")
    expect(agent.get_by_test_id("contact-dial")).to_be_hidden()
    expect(widget_state).to_have_text("Your phone is ringing", timeout=5000)
    # No talk time while it rings (it counted the ringing: issue 13's tour); it starts at the answer.
    expect(agent.get_by_test_id("voice-talk-time")).to_have_text("")
    expect(agent.get_by_test_id("contact-timer")).to_have_text("")
    heard(agent, DESK.format(slot=0), 525, timeout=4)
    assert panel.get_attribute("data-phone") == "ringing"
    assert "Connected" not in widget_state.inner_text()
    expect(shopper.locator(f"{W} [data-testid=otodesk-launcher]")).to_contain_text("Calling your phone")
    snap(agent, "phone-1-desk-ringing")
    peer.set(trying_seconds=0.0)
    said = [line for phone, line in agent.evaluate("window.__phoneStates")]
    phones = [phone for phone, line in agent.evaluate("window.__phoneStates")]
    assert f"Dialling {NUMBER}…" in said and phones.index("dialling") < phones.index("ringing"), said
    snap(shopper, "phone-1-widget-ringing")

    # The phone answers: both pages say so, the agent hears it and it hears the agent.
    expect(panel).to_have_attribute("data-phone", "connected", timeout=8000)
    expect(agent.get_by_test_id("voice-talk-time")).to_have_text(re.compile(r"^\d+:\d\d$"))
    expect(agent.get_by_test_id("contact-timer")).to_have_text(re.compile(r"^\d+:\d\d$"))
    expect(widget_state).to_have_text(re.compile(r"^Connected with "), timeout=5000)
    # The launcher says so too (it said "Calling your phone" beside "Connected with …": issue 13's tour).
    expect(shopper.locator(f"{W} [data-testid=otodesk-launcher]")).to_contain_text("On a call")
    expect(wall.get_by_test_id("voice-calls")).to_contain_text("phone connected")
    snap(agent, "phone-2-desk-connected")
    snap(shopper, "phone-2-widget-connected")
    snap(wall, "phone-2-wall")
    # The keypad reaches the phone as RFC 4733 events (an IVR menu, an extension).
    expect(agent.get_by_test_id("voice-keypad")).to_be_visible()
    agent.get_by_test_id("btn-dtmf-4").click()
    agent.get_by_test_id("btn-dtmf-#").click()
    deadline = time.monotonic() + 3
    while peer.peer.dtmf != ["4", "#"]:
        assert time.monotonic() < deadline, f"the phone got {peer.peer.dtmf}"
        time.sleep(0.05)
    heard(agent, DESK.format(slot=0), 440)
    deadline = time.monotonic() + 5
    while (hz := dominant_hz(peer.peer.recent())) is None or abs(hz - 880) > 10:
        assert time.monotonic() < deadline, f"the phone heard {hz}"
        time.sleep(0.1)

    # The phone holds the call (its re-INVITE: sendonly): the desk says so; it resumes: the call again.
    peer.run(peer.peer.reinvite("sendonly"))
    expect(agent.get_by_test_id("voice-state")).to_contain_text("Held by the customer's side", timeout=3000)
    peer.run(peer.peer.reinvite("sendrecv"))
    expect(agent.get_by_test_id("voice-state")).not_to_contain_text("Held by the customer's side", timeout=3000)
    heard(agent, DESK.format(slot=0), 440)

    # The phone hangs up: the agent is in wrap-up, told so, within 2 s; the widget says it ended.
    began = time.monotonic()
    peer.run(peer.peer.hangup())
    expect(agent.get_by_test_id("wrapup-form")).to_be_visible(timeout=2000)
    assert time.monotonic() - began < 2.5
    expect(agent.get_by_test_id("voice-state")).to_have_text("The customer hung up")
    expect(widget_state).to_have_text(re.compile("ended"), timeout=5000)
    snap(agent, "phone-3-desk-wrap-up")
    snap(shopper, "phone-3-widget-ended")


def test_a_busy_phone_the_desk_says_so_and_the_timeline_has_the_attempt(rig):
    server, peer, agent_browser, shopper_browser, _ = rig
    for context in [*agent_browser.contexts, *shopper_browser.contexts]:
        context.close()
    agent = login(agent_browser, server, "alice")
    available(agent)
    # It rings a while first: the desk's voice panel read "Busy 0:03" (the ringing counted as talk).
    peer.set(behaviour="busy", ring_seconds=2.5)
    try:
        shopper = ask_for_a_phone_call(shopper_browser, server, name="Bea Busy", queue="sales", number=BUSY_NUMBER)
        expect(agent.get_by_test_id("offer-card")).to_be_visible(timeout=8000)
        agent.get_by_test_id("btn-accept").click()
        expect(agent.get_by_test_id("voice-panel")).to_have_attribute("data-phone", "busy", timeout=10_000)
        expect(agent.get_by_test_id("voice-state")).to_have_text("Busy")
        expect(agent.get_by_test_id("voice-talk-time")).to_have_text("")
        expect(agent.get_by_test_id("contact-timer")).to_have_text("")
        # The retry is booked: the widget keeps saying why (it said only "Your call is scheduled").
        expect(shopper.locator(f"{W} [data-testid=otodesk-scheduled]")).to_have_text(
            re.compile(r"^Scheduled for "), timeout=8000)
        expect(shopper.locator(f"{W} [data-testid=otodesk-state]")).to_have_text("Your line was busy")
        snap(agent, "phone-7-desk-busy")
        expect(agent.get_by_test_id("wrapup-form")).to_be_visible(timeout=3000)
        # The customer's full timeline, opened from the wrap-up: the attempt with its SIP result.
        with agent.context.expect_page() as opened:
            agent.get_by_test_id("contact-timeline-link").click()
        record = opened.value
        expect(record.locator("[data-testid=timeline-event][data-kind=phone_attempt]")).to_contain_text(
            f"Attempt 1 to {BUSY_NUMBER}: busy (486)")
        expect(record.locator("[data-testid=timeline-event][data-kind=phone_retry]")).to_contain_text("Attempt 2")
        snap(record, "phone-busy-timeline")
        record.close()
        shopper.context.close()
    finally:
        peer.set(behaviour="early", ring_seconds=2.5)


LEVELS = """() => {
    window.__levels = [];
    setInterval(() => {
        const peer = window.otodeskDeskVoice && window.otodeskDeskVoice.peer;
        const analyser = peer && peer.analysers[0];
        if (!analyser) return;
        const samples = new Float32Array(analyser.fftSize);
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const x of samples) sum += x * x;
        const panel = document.querySelector("[data-testid=voice-panel]");
        window.__levels.push([panel ? panel.dataset.phone : "", Math.sqrt(sum / samples.length)]);
    }, 50);
}"""
QUIET, LOUD = 0.005, 0.02  # RMS of the page's received track, full scale 1


def speech_after_silence(levels: list[float]) -> bool:
    quiet = 0
    for level in levels:
        if level < QUIET:
            quiet += 1
        elif level > LOUD and quiet >= 5:
            return True
    return False


def test_sipp_plays_its_recording_into_the_call_and_the_agent_hears_it(rig, tmp_path):
    """Issue 13's Tier 2 "play_pcap_audio G.711 into the call (the agent's browser hears it)": sipp,
    on the trunk's proxy port for this test, answers in PCMA, is silent 1.5 s, then replays its own
    recording of speech (tests/sipp/pcap_speech.xml); the desk's received track is near silence once
    connected, then loud. Speech, not a tone: the page's level (RMS), not a frequency."""
    server, peer, agent_browser, shopper_browser, _ = rig
    for context in [*agent_browser.contexts, *shopper_browser.contexts]:
        context.close()
    agent = login(agent_browser, server, "alice")
    available(agent)
    # The far end's port is sipp's for this test. sipp answers no REGISTER: the trunk registered at
    # the module's start refreshes after 270 s (aiosipua: 0.9 of the 300 granted), long after this.
    peer.stop()
    far = Sipp("pcap_speech.xml", tmp_path, port=server.sip_port, PCAP=str(SIPP_SPEECH))
    try:
        peer.run(far.__aenter__())
        shopper = ask_for_a_phone_call(shopper_browser, server, name="Sid Sipp", queue="sales", number=SIPP_NUMBER)
        expect(agent.get_by_test_id("offer-card")).to_be_visible(timeout=8000)
        agent.evaluate(LEVELS)
        agent.get_by_test_id("btn-accept").click()
        expect(agent.get_by_test_id("voice-panel")).to_have_attribute("data-phone", "connected", timeout=8000)
        # Silence once the ringback's tail has played out (nothing is sent before sipp's pcap),
        # then speech: a loud moment after at least 5 quiet samples (250 ms) of the answered call.
        deadline = time.monotonic() + 10
        while not speech_after_silence(levels := [level for phone, level in agent.evaluate("window.__levels")
                                                  if phone == "connected"]):
            assert time.monotonic() < deadline, [round(level, 4) for level in levels]
            time.sleep(0.1)
        agent.get_by_test_id("btn-hangup").click()
        expect(agent.get_by_test_id("wrapup-form")).to_be_visible(timeout=3000)
        peer.run(far.finished())  # our ACK, then our BYE: sipp ran its scenario to the end
        shopper.context.close()
    finally:
        peer.run(far.__aexit__(None, None, None))
        peer.start()


def test_a_caller_phones_in_the_desk_offers_who_it_is_and_they_hear_each_other(rig):
    server, peer, agent_browser, shopper_browser, _ = rig
    for context in [*agent_browser.contexts, *shopper_browser.contexts]:
        context.close()  # a desk the test before left open would take this call too
    wall = login(shopper_browser, server, "sam", "/supervisor")
    agent = login(agent_browser, server, "alice")
    available(agent)

    caller = Caller(from_number="+447700900777", tone_hz=440)
    try:
        peer.run(caller.dial(server.our_sip_port, LINE))
        expect(agent.get_by_test_id("offer-card")).to_be_visible(timeout=8000)
        expect(agent.get_by_test_id("offer-kind")).to_contain_text("Incoming phone call")
        expect(agent.get_by_test_id("offer-name")).to_have_text("Unknown caller")
        snap(agent, "phone-4-desk-inbound-offer")
        agent.get_by_test_id("btn-accept").click()
        expect(agent.get_by_test_id("voice-panel")).to_have_attribute("data-phone", "connected", timeout=8000)
        heard(agent, DESK.format(slot=0), 440)
        deadline = time.monotonic() + 5
        while (hz := dominant_hz(caller.recent())) is None or abs(hz - 880) > 10:
            assert time.monotonic() < deadline, f"the caller heard {hz}"
            time.sleep(0.1)
        expect(wall.get_by_test_id("wall-queue-sales").get_by_test_id("inbound")).to_have_text("1", timeout=8000)
        snap(agent, "phone-5-desk-inbound-connected")
        snap(wall, "phone-5-wall-inbound")

        peer.run(caller.hangup())
        expect(agent.get_by_test_id("wrapup-form")).to_be_visible(timeout=3000)
        expect(agent.get_by_test_id("voice-state")).to_have_text("The caller hung up")
    finally:
        peer.run(caller.__aexit__(None, None, None))


def phone_hears(peer: PeerThread, hz: float | None, *, timeout: float = 6.0) -> None:
    """Wait until the far end's last half second is ``hz`` (None: silence) three times running."""
    deadline, streak, last = time.monotonic() + timeout, 0, None
    while time.monotonic() < deadline:
        last = dominant_hz(peer.peer.recent())
        ok = last is None if hz is None else last is not None and abs(last - hz) < 15
        streak = streak + 1 if ok else 0
        if streak >= 3:
            return
        time.sleep(0.15)
    raise AssertionError(f"the phone heard {last}, expected {hz}")


def test_mute_hold_a_supervisor_and_the_recording_on_a_phone_call(rig):
    """On a phone callback as on a browser call: the agent's mute and hold reach the phone (silence,
    then the hold tone), a supervisor in Chromium listens (hears the phone and the agent), whispers
    (the agent hears them, the phone does not) and barges (the phone hears them), the agent's
    hang-up reaches the phone, and the recording of the "support" queue has both voices."""
    server, peer, agent_browser, shopper_browser, supervisor_browser = rig
    for context in [*agent_browser.contexts, *shopper_browser.contexts, *supervisor_browser.contexts]:
        context.close()
    agent = login(agent_browser, server, "alice")
    available(agent)
    wall = login(supervisor_browser, server, "sam", "/supervisor")

    shopper = ask_for_a_phone_call(shopper_browser, server, name="Rita Record", queue="support",
                                   number=RECORDED_NUMBER)
    expect(agent.get_by_test_id("offer-card")).to_be_visible(timeout=8000)
    agent.get_by_test_id("btn-accept").click()
    expect(agent.get_by_test_id("voice-panel")).to_have_attribute("data-phone", "connected", timeout=10000)
    expect(agent.get_by_test_id("voice-state")).to_contain_text("recording", timeout=5000)
    expect(shopper.locator(f"{W} [data-testid=otodesk-state]")).to_have_text(re.compile(r"^Connected with "),
                                                                             timeout=5000)
    heard(agent, DESK.format(slot=0), PHONE_HZ)
    phone_hears(peer, AGENT_HZ)

    # Mute: the phone hears nothing, the agent still hears the phone; unmute: the agent again.
    agent.get_by_test_id("btn-mute").click()
    expect(agent.get_by_test_id("btn-mute")).to_have_attribute("aria-pressed", "true")
    phone_hears(peer, None)
    heard(agent, DESK.format(slot=0), PHONE_HZ)
    agent.get_by_test_id("btn-mute").click()
    phone_hears(peer, AGENT_HZ)

    # Hold: the phone hears the hold tone, the agent hears nothing; resume: each other again.
    agent.get_by_test_id("btn-hold").click()
    expect(agent.get_by_test_id("voice-panel")).to_have_attribute("data-state", "held")
    phone_hears(peer, HOLD_TONE_HZ)
    heard(agent, DESK.format(slot=0), None)
    agent.get_by_test_id("btn-hold").click()
    phone_hears(peer, AGENT_HZ)
    heard(agent, DESK.format(slot=0), PHONE_HZ)

    # The supervisor listens: hears the phone and the agent; nobody hears the supervisor.
    row = wall.locator("[data-testid^=voice-call-]").filter(has_text="Rita Record")
    expect(row).to_be_visible(timeout=8000)
    row.get_by_test_id("btn-listen").click()
    heard(wall, WALL.format(slot=0), PHONE_HZ)
    heard(wall, WALL.format(slot=1), AGENT_HZ)
    expect(agent.get_by_test_id("voice-supervisor")).to_contain_text("listening")
    heard(agent, DESK.format(slot=1), None)
    snap(wall, "phone-6-wall-listening")
    # Whisper: the agent hears the supervisor; the phone still hears only the agent.
    row.get_by_test_id("btn-whisper").click()
    heard(agent, DESK.format(slot=1), SUPERVISOR_HZ)
    phone_hears(peer, AGENT_HZ)
    # Barge, the agent muted: the phone hears the supervisor.
    agent.get_by_test_id("btn-mute").click()
    row.get_by_test_id("btn-barge").click()
    phone_hears(peer, SUPERVISOR_HZ)
    snap(agent, "phone-6-desk-barged")
    row.get_by_test_id("btn-leave").click()
    expect(agent.get_by_test_id("voice-supervisor")).to_have_text("", timeout=5000)
    agent.get_by_test_id("btn-mute").click()
    phone_hears(peer, AGENT_HZ)

    # The agent hangs up: the phone gets a BYE within 2 s, the desk goes to wrap-up.
    began = time.monotonic()
    agent.get_by_test_id("btn-hangup").click()
    while peer.peer.log[-1] not in ("bye", "cancel"):
        assert time.monotonic() - began < 2.0, f"the phone was not hung up: {peer.peer.log[-3:]}"
        time.sleep(0.05)
    expect(agent.get_by_test_id("wrapup-form")).to_be_visible(timeout=3000)

    # The recording has both voices: the phone's and the agent's.
    path = the_recording(server)
    powers = loudest(read_audio(path), (PHONE_HZ, AGENT_HZ))
    assert powers[PHONE_HZ] > 1e4 and powers[AGENT_HZ] > 1e4, powers
    response = agent.request.get(f"{server.base_url}/voice/recordings/{path.stem}.ogg")
    assert response.status == 200 and response.headers["content-type"] == "audio/ogg"
    agent.get_by_test_id("wrapup-disposition").select_option("Resolved")
    agent.get_by_test_id("btn-wrapup").click()
    expect(agent.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    agent.get_by_test_id("btn-away").click()
