"""Documents that belong to one customer (issue 3, pushed documents): an agent uploads a
contract during a call; it is listed and pushed only for that customer, a pushed document
re-opens on the customer's next page (``doc_resume``, signed per visitor), and erasing the
customer deletes the file while the site-wide library stays. A real ``otodesk demo``
process, bots on its sockets, the desk's HTTP session for uploads and the erasure."""

from __future__ import annotations

import re

import httpx
import pytest

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CommandFailed, CustomerBot, login_cookie
from tests.helpers.pdfgen import pdf_with_pages
from tests.helpers.server import running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"OTODESK_OFFER_TIMEOUT": "5", "OTODESK_WRAPUP_TIMEOUT": "30"}
    with running_server(tmp_path_factory.mktemp("customer-docs"), env=env) as server:
        yield server


async def _connected(server, agent_name: str, customer_name: str):
    agent = await AgentBot.login(server.base_url, agent_name, DEMO_PASSWORD)
    await agent.command("set_state", state="available")
    customer = await CustomerBot.start(server.base_url, url="http://shop.test/plans", title="Plans")
    mark = agent.mark()
    ack = await customer.command("call_me", name=customer_name, queue="sales", topic="contract")
    offer = (await agent.wait_for("offer", start=mark))["offer"]
    await agent.command("accept", offer_id=offer["offer_id"])
    contact = (await agent.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "connected"))
    return agent, customer, ack["callback_id"], contact["contact"]["customer"]["id"]


async def _session(server, username: str, page: str, pattern: str) -> httpx.AsyncClient:
    cookie = await login_cookie(server.base_url, username, DEMO_PASSWORD)
    http = httpx.AsyncClient(base_url=server.base_url, headers={"Cookie": cookie})
    csrf = re.search(pattern, (await http.get(page)).text).group(1)
    http.headers["X-CSRF-Token"] = csrf
    return http


async def test_customer_documents_are_theirs_resume_on_next_page_and_are_erased_with_them(server):
    alice, ann, ann_callback, ann_id = await _connected(server, "alice", "Ann Contract")
    bob, ben, ben_callback, ben_id = await _connected(server, "bob", "Ben Other")
    assert ann_id != ben_id
    desk = await _session(server, "alice", "/desk", r'name="csrf_token" value="([^"]+)"')
    contract = pdf_with_pages(["Contract for Ann", "Signatures"])
    library_pdf = pdf_with_pages(["Price list"])
    try:
        nobody = await desk.post("/api/documents?name=c.pdf&customer_id=cus_nobody", content=contract)
        assert nobody.status_code == 404 and nobody.json()["error"] == "not_found"
        mine = (await desk.post(f"/api/documents?name=contract.pdf&customer_id={ann_id}", content=contract)).json()
        shared = (await desk.post("/api/documents?name=prices.pdf", content=library_pdf)).json()
        assert mine["customer_id"] == ann_id and shared["customer_id"] is None
        # The same bytes in the library would be another document: erasing Ann must not touch it.
        twin = (await desk.post("/api/documents?name=contract.pdf", content=contract)).json()
        assert twin["id"] != mine["id"]

        # Listed for Ann only; the site-wide library for everybody.
        everyone = [d["id"] for d in (await desk.get("/api/documents")).json()["documents"]]
        for_ann = [d["id"] for d in (await desk.get(f"/api/documents?customer_id={ann_id}")).json()["documents"]]
        for_ben = [d["id"] for d in (await desk.get(f"/api/documents?customer_id={ben_id}")).json()["documents"]]
        assert mine["id"] not in everyone and mine["id"] not in for_ben
        assert for_ann[0] == mine["id"] and shared["id"] in for_ann and shared["id"] in for_ben

        # Pushed to Ann; never to Ben (as if it did not exist).
        with pytest.raises(CommandFailed) as refused:
            await bob.command("doc_push", callback_id=ben_callback, document_id=mine["id"])
        assert refused.value.code == "not_found"
        mark = ann.mark()
        push = await alice.command("doc_push", callback_id=ann_callback, document_id=mine["id"])
        opened = await ann.wait_for("doc_open", start=mark)
        assert opened["token"] and opened["document"]["customer_id"] == ann_id

        # Ann's next page: a new socket re-opens the document at the page she was on.
        await ann.close()
        ann = await CustomerBot.start(server.base_url, token=ann.token, url="http://shop.test/cart", title="Cart")
        mark = alice.mark()
        resumed = await ann.command("doc_resume", token=opened["token"], page=2, pages=2, zoom=1.25)
        assert resumed["push_id"] == push["push_id"]
        told = await alice.wait_for("doc_page", lambda m: m.get("push_id") == push["push_id"], start=mark)
        assert told["page"] == 2 and told["resumed"] is True and told["by"] == "customer"
        async with httpx.AsyncClient(base_url=server.base_url) as browser:
            assert (await browser.get(resumed["url"])).content == contract  # a fresh signed link
        mark = ann.mark()
        await alice.command("doc_page", push_id=push["push_id"], visitor_id=push["visitor_id"], page=1)
        assert (await ann.wait_for("doc_page", start=mark))["page"] == 1  # still in sync
        # The token is Ann's: Ben can't use it, nor a forged one.
        for token in (opened["token"], opened["token"][:-4] + "AAAA"):
            with pytest.raises(CommandFailed) as stolen:
                await ben.command("doc_resume", token=token, page=1)
            assert stolen.value.code == "unauthorized"
    finally:
        for agent, customer, callback_id in ((alice, ann, ann_callback), (bob, ben, ben_callback)):
            await customer.close()
            await agent.command("end", callback_id=callback_id)
            await agent.command("wrap_up", callback_id=callback_id, disposition="Resolved")
            await agent.command("set_state", state="away", reason="test over")
            await agent.close()
        await desk.aclose()

    documents = server.var_dir / "documents"
    owned = list((documents / "customers" / ann_id).glob("*"))
    assert {p.suffix for p in owned} == {".pdf", ".json"}
    # Erasing Ann (an admin, from the desk) deletes her contract; the library stays whole.
    admin = await _session(server, "admin", "/desk/customers", r'name="csrf-token" content="([^"]+)"')
    try:
        erased = await admin.delete(f"/api/v1/customers/{ann_id}")
        assert erased.status_code == 200, erased.text
        assert not [p for p in (documents / "customers").rglob("*") if p.is_file() and ann_id in str(p)]
        assert not [p for p in documents.rglob("*") if p.is_file() and p.read_bytes() == contract
                    and mine["id"] in p.name]
        left = [d["id"] for d in (await admin.get("/api/documents")).json()["documents"]]
        assert shared["id"] in left and twin["id"] in left
        assert (await admin.get(f"/documents/{mine['id']}")).status_code == 404
    finally:
        await admin.aclose()


async def test_a_document_named_in_any_script_downloads_with_safe_headers(server):
    """A name outside Latin-1 (say a contract named in Chinese) once broke the download (500):
    the header now carries an ASCII fallback and the UTF-8 name (RFC 6266 ``filename*``)."""
    desk = await _session(server, "alice", "/desk", r'name="csrf_token" value="([^"]+)"')
    try:
        up = await desk.post("/api/documents?name=%E5%90%88%E5%90%8C%22x.pdf", content=pdf_with_pages(["合同"]))
        assert up.status_code in (200, 201), up.text
        document = up.json()
        got = await desk.get(f"/documents/{document['id']}?download=1")
        assert got.status_code == 200
        assert got.headers["content-type"] == "application/pdf"
        assert got.headers["x-content-type-options"] == "nosniff"
        disposition = got.headers["content-disposition"]
        assert disposition.startswith("attachment; filename=\"")
        assert "filename*=UTF-8''" in disposition and "%E5%90%88%E5%90%8C" in disposition
        assert disposition.count('"') == 2  # no quote from the name breaks out of the parameter
    finally:
        await desk.aclose()
