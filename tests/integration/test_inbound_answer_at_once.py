"""A caller phoning while the spoken prompts still render is answered at once (Tier 1).

A process renders the "press 1 to be called back" prompts with espeak-ng as it starts; here
espeak-ng takes 2 s a prompt (a loaded machine, a cold cache). The caller who phones then is
answered before the queue's four prompts are rendered (0.1 s here), hears the greeting and the
music, and is offered the callback once the words are ready: pressing 1 then gets our BYE and a
phone callback. (Before, the answer waited for every prompt of the queue's language: 8 s of
ringing here.)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time

import pytest
from sqlalchemy import text

from desktop.repository.repository import Repository
from signaling.media.sip import PhoneState
from signaling.media.waiting import GREETING_HZ
from tests.helpers.server import ServerProcess
from tests.helpers.sip_caller import Caller, free_udp_port, trunk_env
from tests.helpers.sip_peer import dominant_hz, near, until

LINE = "+442079460500"  # sales (OTODESK_SIP_INBOUND)
CALLER = "+442079460484"  # Ofcom's drama range for London: a number that may be called back
RENDER_SECONDS = 2.0


@pytest.fixture
def server(tmp_path):
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (make espeak)")
    slow = tmp_path / "bin"
    slow.mkdir()
    # Each prompt it finishes leaves a line in ``rendered``: what was ready when the call was answered.
    (slow / "espeak-ng").write_text(f"#!/bin/sh\nsleep {RENDER_SECONDS}\n{espeak} \"$@\"\nstatus=$?\n"
                                    f"echo done >> {tmp_path / 'rendered'}\nexit $status\n")
    (slow / "espeak-ng").chmod(0o755)
    sip_port, our_sip_port = free_udp_port(), free_udp_port()
    server = ServerProcess(tmp_path / "var", env={
        "PATH": f"{slow}:{os.environ['PATH']}",
        **trunk_env(sip_port, our_sip_port, credentials=False), "OTODESK_SIP_INBOUND": f"{LINE}=sales",
        "OTODESK_SIP_CALLBACK_OFFER": "30",
        "OTODESK_DEFAULT_REGION": "GB", "OTODESK_TIMEZONE": "UTC"})
    server.our_sip_port = our_sip_port
    server.rendered = tmp_path / "rendered"
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_answered_before_the_prompts_are_rendered_and_offered_the_callback_once_they_are(server):
    async with Caller(from_number=CALLER) as caller:
        dialled = time.monotonic()
        await caller.dial(server.our_sip_port, LINE)
        await caller.until(PhoneState.CONNECTED, timeout=15)
        answered_after = time.monotonic() - dialled
        rendered = len(server.rendered.read_text().split()) if server.rendered.exists() else 0
        # Not after the queue's four English prompts (before, the answer waited for all of them).
        assert rendered < 4, f"answered once {rendered} prompts were rendered ({answered_after:.1f} s)"
        await until(lambda: near(dominant_hz(caller.recent(0.3)), GREETING_HZ), what="the greeting")

        # 1 means nothing before the offer is heard; once the words are ready it is offered.
        pressed = 0
        while caller.call.state == PhoneState.CONNECTED and pressed < 60:
            caller.press("1")
            pressed += 1
            await asyncio.sleep(0.5)
        ended = await caller.until(PhoneState.ENDED, timeout=8)
        assert ended.result == "completed" and ended.reason == "the phone hung up"  # our BYE
        print(f"answered in {answered_after:.2f} s; BYE {time.monotonic() - dialled:.1f} s after dialling")

    async with Repository.open(server.database_url) as repo:
        chosen = await repo.database.read(lambda conn: conn.execute(text(
            "SELECT channel, state, phone FROM callbacks WHERE phone = :phone"), {"phone": CALLER}).one())
    assert tuple(chosen) == ("phone", "queued", CALLER)  # a phone callback, waiting its turn
