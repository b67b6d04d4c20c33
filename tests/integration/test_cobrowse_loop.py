"""Co-browse over real sockets against a real ``otodesk demo`` process, with Python bots:
consent, relay, resume across pages, late joiners, stop, the timeline, and bad input."""

from __future__ import annotations

import asyncio
import json

import pytest

from desktop.repository import Repository
from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CommandFailed, CustomerBot, SupervisorBot
from tests.helpers.server import running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"OTODESK_OFFER_TIMEOUT": "5", "OTODESK_WRAPUP_TIMEOUT": "30"}
    with running_server(tmp_path_factory.mktemp("cobrowse"), env=env) as server:
        yield server


def _meta(ts: float) -> dict:
    return {"type": 4, "timestamp": ts, "data": {"href": "http://shop.test/", "width": 800, "height": 600}}


def _full(ts: float, filler: int = 0) -> dict:
    text = {"type": 3, "textContent": "x" * filler, "id": 3}
    return {"type": 2, "timestamp": ts + 1, "data": {"node": {"type": 0, "childNodes": [text], "id": 1},
                                                     "initialOffset": {"left": 0, "top": 0}}}


async def _connected(server, agent_name: str = "alice"):
    agent = await AgentBot.login(server.base_url, agent_name, DEMO_PASSWORD)
    await agent.command("set_state", state="available")
    customer = await CustomerBot.start(server.base_url, url="http://shop.test/checkout", title="Checkout")
    mark = agent.mark()
    ack = await customer.command("call_me", name="Cora Browse", queue="sales", topic="help")
    offer = (await agent.wait_for("offer", start=mark))["offer"]
    await agent.command("accept", offer_id=offer["offer_id"])
    await agent.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "connected")
    return agent, customer, ack["callback_id"]


async def _finish(agent: AgentBot, customer: CustomerBot, callback_id: str) -> None:
    await customer.close()
    with_errors = [m for m in agent.messages if m.get("type") == "error"]
    await agent.command("end", callback_id=callback_id)
    await agent.command("wrap_up", callback_id=callback_id, disposition="Resolved")
    await agent.command("set_state", state="away", reason="test over")
    await agent.close()
    return with_errors


async def _share(agent: AgentBot, customer: CustomerBot, callback_id: str) -> str:
    mark = customer.mark()
    ack = await agent.command("cobrowse_request", callback_id=callback_id)
    request = await customer.wait_for("cobrowse_request", start=mark)
    assert request["request_id"] == ack["request_id"] and request["agent_name"]
    answer = await customer.command("cobrowse_answer", request_id=request["request_id"], accept=True)
    await agent.wait_for("cobrowse_state", lambda m: m["state"] == "sharing")
    return answer["token"]


async def test_consent_relay_resume_late_joiner_stop_and_timeline(server):
    agent, customer, callback_id = await _connected(server)
    try:
        # Nothing passes before consent.
        with pytest.raises(CommandFailed) as refused:
            await customer.command("cobrowse_answer", request_id="forged", accept=True)
        assert refused.value.code == "invalid_state"
        mark = customer.mark()
        await customer.send({"type": "cobrowse_events", "events": [_meta(1e12)]})
        error = await customer.wait_for("error", start=mark)
        assert error["code"] == "invalid_state" and "consent" in error["message"]

        ack = await agent.command("cobrowse_request", callback_id=callback_id)
        assert ack["visitor_id"] == customer.visitor_id
        request = await customer.wait_for("cobrowse_request")
        # A forged request id is refused; the real one is accepted.
        with pytest.raises(CommandFailed):
            await customer.command("cobrowse_answer", request_id="not-" + request["request_id"], accept=True)
        answer = await customer.command("cobrowse_answer", request_id=request["request_id"], accept=True)
        assert answer["token"]
        await agent.wait_for("cobrowse_state", lambda m: m["state"] == "sharing")

        # Events are relayed to the agent, a full snapshot too big for one message in pieces.
        mark = agent.mark()
        await customer.send({"type": "cobrowse_events", "events": [_meta(1e12)]})
        text = json.dumps([_full(1e12, filler=150_000)])
        pieces = [text[i:i + 40_000] for i in range(0, len(text), 40_000)]
        for index, data in enumerate(pieces):
            await customer.send({"type": "cobrowse_chunk", "batch": "b1", "index": index,
                                 "total": len(pieces), "data": data})
        first = await agent.wait_for("cobrowse_events", start=mark)
        assert first["events"][0]["type"] == 4 and "seq" not in first
        full = await agent.wait_for("cobrowse_events", lambda m: m["events"][0]["type"] == 2, start=mark)
        assert len(full["events"][0]["data"]["node"]["childNodes"][0]["textContent"]) == 150_000

        # A new page: the socket closes (paused), the next page resumes with the token.
        await customer.close()
        await agent.wait_for("cobrowse_state", lambda m: m["state"] == "paused")
        page2 = await CustomerBot.start(server.base_url, token=customer.token, url="http://shop.test/cart")
        customer = page2
        with pytest.raises(CommandFailed) as forged:
            await page2.command("cobrowse_resume", token=answer["token"][:-4] + "AAAA")
        assert forged.value.code == "unauthorized"
        await page2.command("cobrowse_resume", token=answer["token"])
        await agent.wait_for("cobrowse_state", lambda m: m["state"] == "sharing" and m.get("resumed"))

        # A supervisor joins midway: the recorder is asked for a fresh full snapshot.
        sam = await SupervisorBot.login(server.base_url, "sam", DEMO_PASSWORD)
        try:
            mark = page2.mark()
            await sam.command("cobrowse_view", visitor_id=page2.visitor_id)
            await page2.wait_for("cobrowse_snapshot", start=mark)
            viewer = await page2.wait_for("cobrowse_viewer", start=mark)
            assert viewer["role"] == "supervisor"
            sam_mark = sam.mark()
            await page2.send({"type": "cobrowse_events", "events": [_meta(1e12 + 5), _full(1e12 + 5)]})
            await sam.wait_for("cobrowse_events", start=sam_mark)
            # The agent's pointer reaches the customer's page.
            mark = page2.mark()
            await agent.send({"type": "cobrowse_pointer", "visitor_id": page2.visitor_id, "node": 3,
                              "fx": 0.25, "fy": 0.5, "x": 10, "y": 20})
            pointer = await page2.wait_for("cobrowse_pointer", start=mark)
            assert pointer["node"] == 3 and pointer["name"]
            # A supervisor can't end the agent's share; only leave it.
            await sam.command("cobrowse_end", visitor_id=page2.visitor_id)
        finally:
            await sam.close()

        # Stop sharing: viewers are told at once, events are refused afterwards.
        mark = agent.mark()
        await page2.command("cobrowse_stop")
        stopped = await agent.wait_for("cobrowse_state", lambda m: m["state"] == "stopped", start=mark)
        assert stopped["by"] == "customer"
        probe = page2.mark()
        await page2.send({"type": "cobrowse_events", "events": [_meta(1e12 + 9)]})
        assert (await page2.wait_for("error", start=probe))["code"] == "invalid_state"
    finally:
        await _finish(agent, customer, callback_id)

    # The timeline has the share's start and stop.
    url = server.database_url
    async with Repository.open(url) as repo:
        callback = await repo.get_callback(callback_id)
        kinds = [event.kind for event in await repo.timeline(callback.customer_id)]
        stopped = [event for event in await repo.timeline(callback.customer_id, kinds=["cobrowse_stopped"])]
    assert "cobrowse_started" in kinds and "cobrowse_stopped" in kinds
    assert stopped[0].data["by"] == "customer" and stopped[0].channel == "web"


async def test_bad_rrweb_input_is_refused_and_the_session_survives(server):
    agent, customer, callback_id = await _connected(server, "bob")
    try:
        await _share(agent, customer, callback_id)

        async def refused(message: dict | str) -> dict:
            mark = customer.mark()
            await customer.send(message)
            return await customer.wait_for("error", start=mark)

        # Huge: one frame over the hub's 64 KiB limit, and a batch of pieces over 4 MiB.
        huge = await refused({"type": "cobrowse_events", "events": [_full(1e12, filler=70_000)]})
        assert huge["code"] == "too_large"
        # Malformed: not rrweb events, not a list, bad pieces.
        for bad in ([{"type": 99, "timestamp": 1, "data": {}}], [{"type": 2, "data": {}}],
                    [{"type": 3, "timestamp": 1e12, "data": "x"}], []):
            assert (await refused({"type": "cobrowse_events", "events": bad}))["code"] == "bad_message"
        assert (await refused({"type": "cobrowse_events", "events": "nope"}))["code"] == "bad_message"
        assert (await refused({"type": "cobrowse_chunk", "batch": "c", "index": 1, "total": 2,
                               "data": "[]"}))["code"] == "bad_message"
        assert (await refused({"type": "cobrowse_chunk", "batch": "c", "index": 0, "total": 1,
                               "data": "not json"}))["code"] == "bad_message"
        # Forged control: a customer can't send what only viewers may.
        forged = await refused({"type": "cobrowse_request", "id": "x1", "callback_id": callback_id})
        assert forged["code"] in ("unknown_type", "bad_message")
        forged = await refused({"type": "cobrowse_pointer", "visitor_id": customer.visitor_id})
        assert forged["code"] in ("unknown_type", "bad_message")
        # An agent can't watch a customer who is not theirs.
        carol = await AgentBot.login(server.base_url, "carol", DEMO_PASSWORD)
        try:
            with pytest.raises(CommandFailed) as stranger:
                await carol.command("cobrowse_view", visitor_id=customer.visitor_id)
            assert stranger.value.code == "not_found"
            with pytest.raises(CommandFailed):
                await carol.command("cobrowse_request", callback_id=callback_id)
        finally:
            await carol.close()

        # The share still works.
        mark = agent.mark()
        await customer.send({"type": "cobrowse_events", "events": [_meta(1e12)]})
        await agent.wait_for("cobrowse_events", start=mark)

        await asyncio.sleep(3.5)  # let the hub's message bucket (20/s, bursts of 60) fill up again
        # A deflate bomb: 40 KB that would inflate to 40 MB, over the 32 MiB a batch may have.
        import base64
        import zlib
        bomb = base64.b64encode(zlib.compress(b"[" + b" " * 40_000_000 + b"]", 9)).decode()
        pieces = [bomb[i:i + 40_000] for i in range(0, len(bomb), 40_000)]
        mark = customer.mark()
        for index, data in enumerate(pieces):
            await customer.send({"type": "cobrowse_chunk", "batch": "bomb", "index": index, "total": len(pieces),
                                 "data": data, "encoding": "deflate"})
        error = await customer.wait_for("error", start=mark)
        assert error["code"] == "too_large" and "decompressed" in error["message"]
        # Not base64 of deflated JSON: a clear error.
        assert (await refused({"type": "cobrowse_chunk", "batch": "z", "index": 0, "total": 1,
                               "data": "bm90IGRlZmxhdGU=", "encoding": "deflate"}))["code"] == "bad_message"
        # The agent ends the share: the customer's page is told at once and its events stop.
        await asyncio.sleep(0.3)
        mark = customer.mark()
        await agent.command("cobrowse_end", visitor_id=customer.visitor_id)
        ended = await customer.wait_for("cobrowse_ended", start=mark)
        assert ended["by"] == "agent"
        probe = customer.mark()
        await customer.send({"type": "cobrowse_events", "events": [_meta(1e12 + 1)]})
        assert (await customer.wait_for("error", start=probe))["code"] == "invalid_state"
    finally:
        await _finish(agent, customer, callback_id)


async def test_documents_upload_checks_push_links_and_timeline(server):
    import re

    import httpx

    from signaling.client import login_cookie
    from tests.helpers.pdfgen import pdf_with_pages

    cookie = await login_cookie(server.base_url, "alice", DEMO_PASSWORD)
    async with httpx.AsyncClient(base_url=server.base_url, headers={"Cookie": cookie}) as http:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', (await http.get("/desk")).text).group(1)
        headers = {"X-CSRF-Token": csrf}

        async def upload(data: bytes, name: str, **kwargs) -> httpx.Response:
            return await http.post(f"/api/documents?name={name}", content=data, **kwargs)

        # Refused, each with a clear error: no CSRF token, not logged in, a non-image named
        # .png, an SVG, an oversized PDF.
        pdf = pdf_with_pages(["Floor plan, level 1", "Floor plan, level 2"])
        assert (await upload(pdf, "plan.pdf")).json()["error"] == "bad_csrf"
        async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
            assert (await anonymous.post("/api/documents?name=x.pdf", content=pdf)).status_code == 401
            listed = await anonymous.get("/api/documents")
            assert listed.status_code == 401 and listed.json()["error"] == "unauthorized"
        fake = await upload(b"MZ\x90\x00 an executable", "photo.png", headers=headers)
        assert fake.status_code == 415 and fake.json()["error"] == "unsupported_type"
        assert "whatever its name says" in fake.json()["message"]
        svg = await upload(b"<svg onload='alert(1)'/>", "logo.svg", headers=headers)
        assert svg.status_code == 415 and "SVG" in svg.json()["message"]
        big = await upload(pdf_with_pages(["big"], padding=10 * 1024 * 1024 + 1), "big.pdf", headers=headers)
        assert big.status_code == 413 and big.json()["error"] == "too_large"

        good = await upload(pdf, "plan.pdf", headers=headers)
        assert good.status_code == 201, good.text
        document = good.json()
        assert document["kind"] == "pdf" and document["media_type"] == "application/pdf"
        listed = (await http.get("/api/documents")).json()["documents"]
        assert document["id"] in [d["id"] for d in listed]
        served = await http.get(f"/documents/{document['id']}")
        assert served.content == pdf and served.headers["x-content-type-options"] == "nosniff"

    agent, customer, callback_id = await _connected(server, "alice")
    try:
        with pytest.raises(CommandFailed):
            await agent.command("doc_push", callback_id=callback_id, document_id="0" * 32)
        mark = customer.mark()
        ack = await agent.command("doc_push", callback_id=callback_id, document_id=document["id"])
        opened = await customer.wait_for("doc_open", start=mark)
        assert opened["push_id"] == ack["push_id"] and opened["document"]["name"] == "plan.pdf"
        link = opened["document"]["url"]
        async with httpx.AsyncClient(base_url=server.base_url) as stranger:
            assert (await stranger.get(link)).content == pdf  # the signed link is the key
            assert (await stranger.get(link[:-3] + "abc")).status_code == 403
            assert (await stranger.get(f"/documents/{document['id']}")).status_code == 403

        # Page turns both ways; a forged push id is refused.
        mark = customer.mark()
        await agent.command("doc_page", push_id=ack["push_id"], visitor_id=ack["visitor_id"], page=2, zoom=1.5)
        turned = await customer.wait_for("doc_page", start=mark)
        assert turned["page"] == 2 and turned["zoom"] == 1.5 and turned["by"] == "agent"
        mark = agent.mark()
        await customer.send({"type": "doc_page", "push_id": ack["push_id"], "page": 1, "zoom": 1, "pages": 2})
        back = await agent.wait_for("doc_page", start=mark)
        assert back["page"] == 1 and back["pages"] == 2 and back["by"] == "customer"
        with pytest.raises(CommandFailed) as forged:
            await customer.command("doc_page", push_id="forged", page=1)
        assert forged.value.code == "not_found"
        with pytest.raises(CommandFailed):
            await customer.command("doc_page", push_id=ack["push_id"], page=3)  # beyond its 2 pages
        mark = agent.mark()
        await customer.command("doc_close", push_id=ack["push_id"])
        assert (await agent.wait_for("doc_closed", start=mark))["by"] == "customer"
    finally:
        await _finish(agent, customer, callback_id)

    url = server.database_url
    async with Repository.open(url) as repo:
        callback = await repo.get_callback(callback_id)
        events = await repo.timeline(callback.customer_id, kinds=["document_pushed", "document_closed"])
    by_kind = {event.kind: event.data for event in events}
    assert by_kind["document_pushed"]["name"] == "plan.pdf"
    assert by_kind["document_closed"]["pages_seen"] == [1, 2] and by_kind["document_closed"]["by"] == "customer"


async def test_the_share_ends_with_the_call_on_both_sides_and_stays_ended(server):
    """Issue 9 items 2 and 18: End call (or the customer hanging up) ends co-browse access
    server-side: the customer's page stops sharing, the agent's socket gets no more events, the
    pointer is refused, the share token no longer resumes, and a desk reconnect re-subscribes
    nothing."""
    for hang_up_by in ("agent", "customer"):
        agent, customer, callback_id = await _connected(server, "alice")
        try:
            token = await _share(agent, customer, callback_id)
            if hang_up_by == "customer":
                # The desk is away (a reload) when the customer hangs up.
                await agent.close()
                await customer.command("voice_control", action="hangup", callback_id=callback_id)
                ended = await customer.wait_for("cobrowse_ended")
                agent = await AgentBot.login(server.base_url, "alice", DEMO_PASSWORD)
                assert agent.welcome["cobrowse"] == []
            else:
                mark, customer_mark = agent.mark(), customer.mark()
                await agent.command("end", callback_id=callback_id)
                state = await agent.wait_for("cobrowse_state", lambda m: m["state"] in ("ended", "stopped"),
                                             start=mark)
                assert state["by"] == "contact" and state["visitor_id"] == customer.visitor_id
                ended = await customer.wait_for("cobrowse_ended", start=customer_mark)
            assert ended["by"] == "contact"

            # Nothing flows any more, either way.
            probe = customer.mark()
            await customer.send({"type": "cobrowse_events", "events": [_meta(1e12 + 2)]})
            assert (await customer.wait_for("error", start=probe))["code"] == "invalid_state"
            mark = agent.mark()
            await agent.send({"type": "cobrowse_pointer", "visitor_id": customer.visitor_id, "node": 3,
                              "fx": 0.5, "fy": 0.5, "x": 1, "y": 1})
            assert (await agent.wait_for("error", start=mark))["code"] == "invalid_state"
            # The next page's resume is refused: the consent was for that call.
            await customer.close()
            customer = await CustomerBot.start(server.base_url, token=customer.token, url="http://shop.test/cart")
            with pytest.raises(CommandFailed) as refused:
                await customer.command("cobrowse_resume", token=token)
            assert refused.value.code == "unauthorized"
            # The desk reloads (after End, before Done): the welcome watches nothing.
            await agent.close()
            agent = await AgentBot.login(server.base_url, "alice", DEMO_PASSWORD)
            assert agent.welcome["cobrowse"] == []
            await asyncio.sleep(0.2)
            assert not [m for m in agent.messages if m.get("type") == "cobrowse_events"]
        finally:
            await customer.close()
            await agent.command("wrap_up", callback_id=callback_id, disposition="Resolved")
            await agent.command("set_state", state="away", reason="test over")
            await agent.close()
