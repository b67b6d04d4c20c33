"""After the contact, over real sockets (a real ``otodesk demo`` process, Python bots, a local
SMTP server): the summary reaches the widget and the customer's e-mail, the rating and "not
solved" are stored, the reopened request rings as a follow-up, and the reports count them."""

from __future__ import annotations

import asyncio
import email
import time
from email import policy

import httpx
import pytest
from aiosmtpd.controller import Controller

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CommandFailed, CustomerBot, login_cookie
from tests.helpers.databases import own_postgres_database
from tests.helpers.server import free_port, running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Inbox:
    """What the local SMTP server received."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def own_postgres_url(postgres_url):
    """A database of this module's own: other tests reset the session's one meanwhile."""
    with own_postgres_database(postgres_url, "otodesk_aftercall") as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory, smtp):
    controller, inbox = smtp
    inbox.messages.clear()
    env = {"OTODESK_OFFER_TIMEOUT": "5", "OTODESK_WRAPUP_TIMEOUT": "60", "OTODESK_CALLME_PER_ADDRESS": "1000",
           "OTODESK_SMTP_HOST": "127.0.0.1", "OTODESK_SMTP_PORT": str(controller.port),
           "OTODESK_SMTP_FROM": "help@shop.test", "OTODESK_SMTP_RETRY_DELAY": "0.2"}
    if request.param == "postgresql":
        env["OTODESK_DATABASE_URL"] = request.getfixturevalue("own_postgres_url")
    with running_server(tmp_path_factory.mktemp(f"aftercall-{request.param}"), env=env) as server:
        yield server


async def available(base_url: str, username: str) -> AgentBot:
    agent = await AgentBot.login(base_url, username, DEMO_PASSWORD)
    await agent.command("set_state", state="available")
    await agent.wait_for("agent_state", lambda m: m["state"]["state"] == "available")
    return agent


async def talk_and_end(agent: AgentBot, customer: CustomerBot, **call_me) -> str:
    mark = agent.mark()
    callback_id = (await customer.command("call_me", **call_me))["callback_id"]
    offer = (await agent.wait_for("offer", lambda m: m["offer"]["callback_id"] == callback_id, start=mark))["offer"]
    await agent.command("accept", offer_id=offer["offer_id"])
    await agent.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "connected", start=mark)
    await agent.command("end", callback_id=callback_id)
    await agent.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "wrap_up", start=mark)
    return callback_id


async def error_of(bot, type_: str, **fields) -> dict:
    with pytest.raises(CommandFailed) as failed:
        await bot.command(type_, **fields)
    return failed.value.error


async def test_summary_rating_not_solved_and_the_follow_up(server, smtp):
    _, inbox = smtp
    alice = await available(server.base_url, "alice")
    customer = await CustomerBot.start(server.base_url)
    stranger = await CustomerBot.start(server.base_url)
    try:
        await customer.command("identify", name="Mei Chen", email="mei.chen@example.com")
        callback_id = await talk_and_end(alice, customer, name="Mei Chen", queue="support",
                                         topic="Refund", locale="zh-CN")
        # A summary over 1000 characters is refused, and nothing is wrapped up.
        error = await error_of(alice, "wrap_up", callback_id=callback_id, disposition="Resolved",
                               summary="x" * 1001)
        assert error["code"] == "bad_message" and "summary" in error["message"]
        mark = customer.mark()
        await alice.command("wrap_up", callback_id=callback_id, disposition="Resolved", note="internal",
                            summary="退款已办理，三个工作日内到账。")
        shown = (await customer.wait_for("after_call", start=mark))["after_call"]
        assert shown["callback_id"] == callback_id and shown["summary"] == "退款已办理，三个工作日内到账。"
        assert shown["agent_name"] == "Alice Martin" and shown["rating"] is None

        # The e-mail, in the customer's language, with the summary (sent off the request path).
        for _ in range(100):
            if inbox.messages:
                break
            await asyncio.sleep(0.05)
        [mail] = inbox.messages
        assert mail["To"] == "Mei Chen <mei.chen@example.com>" and mail["From"] == "help@shop.test"
        assert mail["Subject"] == "我们为您的请求做了什么" and mail["Content-Language"] == "zh-CN"
        body = mail.get_content()
        assert "退款已办理，三个工作日内到账。" in body and "Alice Martin" in body and "未解决" in body
        assert "internal" not in body  # the note is for the timeline, not the customer

        # Ratings: out of range refused by the protocol; another customer's token finds nothing.
        assert (await error_of(customer, "rate", callback_id=callback_id, rating=6))["code"] == "bad_message"
        assert (await error_of(customer, "rate", callback_id=callback_id, rating=0))["code"] == "bad_message"
        assert (await error_of(stranger, "rate", callback_id=callback_id, rating=5))["code"] == "not_found"
        assert (await error_of(stranger, "not_solved", callback_id=callback_id))["code"] == "not_found"
        await customer.command("rate", callback_id=callback_id, rating=2)

        # The next page load (same token) still shows it, with the rating given.
        await customer.close()
        customer = await CustomerBot.start(server.base_url, token=customer.token)
        assert customer.welcome["after_call"]["callback_id"] == callback_id
        assert customer.welcome["after_call"]["rating"] == 2
        assert stranger.welcome["after_call"] is None

        # "Not solved": a new request that rings as a follow-up of the earlier contact.
        mark = alice.mark()
        reopened = (await customer.command("not_solved", callback_id=callback_id))["callback_id"]
        assert reopened != callback_id
        offer = (await alice.wait_for("offer", lambda m: m["offer"]["callback_id"] == reopened, start=mark))["offer"]
        follow_up = offer["follow_up"]
        assert follow_up["callback_id"] == callback_id and follow_up["agent_name"] == "Alice Martin"
        assert follow_up["summary"] == "退款已办理，三个工作日内到账。" and follow_up["rating"] == 2
        assert [e["kind"] for e in offer["previous"]][:2] == ["not_solved", "contact_rated"]
        # Twice is refused; the welcome no longer offers it.
        assert (await error_of(customer, "not_solved", callback_id=callback_id))["code"] == "invalid_state"
        again = await CustomerBot.start(server.base_url, token=customer.token)
        assert again.welcome["after_call"] is None and again.welcome["callback"]["id"] == reopened
        await again.close()
        await alice.command("decline", offer_id=offer["offer_id"])
        await customer.command("cancel", callback_id=reopened)

        # The reports: one rated contact of two asked... here one contact, rated 2, reopened.
        cookie = await login_cookie(server.base_url, "sam", DEMO_PASSWORD)
        async with httpx.AsyncClient(base_url=server.base_url, headers={"Cookie": cookie}) as http:
            today = time.strftime("%Y-%m-%d")
            report = (await http.get("/api/v1/reports", params={"from": today, "to": today})).json()
            rows = {(row["by"], row["name"]): row for row in report["tables"]["satisfaction"]["rows"]}
            assert rows[("Queue", "Support")]["rated"] == 1
            assert rows[("Queue", "Support")]["average_rating"] == 2
            assert rows[("Agent", "Alice Martin")]["reopen_rate"] == 1.0
            csv = await http.get("/api/v1/reports/satisfaction.csv", params={"from": today, "to": today})
            assert csv.status_code == 200 and "Reopen rate (%)" in csv.text and "Alice Martin" in csv.text
    finally:
        for bot in (customer, stranger):
            await bot.close()
        await alice.command("set_state", state="away", reason="test over")
        await alice.close()


async def test_without_a_summary_nothing_is_shown_or_sent(server, smtp):
    _, inbox = smtp
    sent = len(inbox.messages)
    alice = await available(server.base_url, "alice")
    customer = await CustomerBot.start(server.base_url)
    try:
        await customer.command("identify", name="Ann", email="ann@example.com")
        callback_id = await talk_and_end(alice, customer, name="Ann", queue="support")
        # Rating a contact not wrapped up yet is refused.
        assert (await error_of(customer, "rate", callback_id=callback_id, rating=3))["code"] == "invalid_state"
        mark = customer.mark()
        await alice.command("wrap_up", callback_id=callback_id, disposition="Resolved")
        await asyncio.sleep(0.5)
        assert not [m for m in customer.messages[mark:] if m.get("type") == "after_call"]
        assert len(inbox.messages) == sent
    finally:
        await customer.close()
        await alice.command("set_state", state="away", reason="test over")
        await alice.close()
