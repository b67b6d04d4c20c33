"""A day of scripted contacts through a real server (bots on real sockets), then the report.

The report's counts must equal what the script did: offered, answered, abandoned and
short abandons per queue, channels, offers accepted / declined / missed per agent,
dispositions; on SQLite and on PostgreSQL. The centre's zone is not the server's (UTC).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import time
from zoneinfo import ZoneInfo

import httpx
import pytest

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CustomerBot, login_cookie
from tests.helpers.databases import own_postgres_database
from tests.helpers.server import CONSENT, running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

ZONE = "Pacific/Auckland"  # far from UTC: a wrong zone would put contacts on another day
SHORT = 3.0  # seconds: OTODESK_SHORT_ABANDON


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory):
    env = {"OTODESK_OFFER_TIMEOUT": "2", "OTODESK_WRAPUP_TIMEOUT": "30", "OTODESK_TIMEZONE": ZONE,
           "OTODESK_SHORT_ABANDON": str(SHORT), "OTODESK_CALLME_PER_ADDRESS": "1000"}
    if request.param == "postgresql":
        env["OTODESK_DATABASE_URL"] = request.getfixturevalue("reports_postgres_url")
    with running_server(tmp_path_factory.mktemp(f"reports-{request.param}"), env=env) as server:
        yield server


@pytest.fixture(scope="module")
def reports_postgres_url(postgres_url):
    """A database of this module's own: other tests reset the session's one meanwhile."""
    with own_postgres_database(postgres_url, "otodesk_reports") as url:
        yield url


async def _available(base_url: str, username: str) -> AgentBot:
    agent = await AgentBot.login(base_url, username, DEMO_PASSWORD)
    await agent.command("set_state", state="available")
    await agent.wait_for("agent_state", lambda m: m["state"]["state"] == "available")
    return agent


async def _answer(agent: AgentBot, customer: CustomerBot, callback_id: str, disposition: str, *, mark: int) -> None:
    offer = (await agent.wait_for("offer", lambda m: m["offer"]["callback_id"] == callback_id, start=mark))["offer"]
    await agent.command("accept", offer_id=offer["offer_id"])
    await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "connected")
    await agent.command("end", callback_id=callback_id)
    await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "completed")
    await agent.command("wrap_up", callback_id=callback_id, disposition=disposition, note="")
    await agent.wait_for("agent_state", lambda m: m["state"]["state"] == "available", start=agent.mark() - 3)


async def _script(base_url: str) -> dict:
    """Contacts of one day; returns what the report must say."""
    alice = await _available(base_url, "alice")
    customers = []
    try:
        async def call(queue: str, **extra) -> tuple[CustomerBot, str]:
            customer = await CustomerBot.start(base_url)
            customers.append(customer)
            ack = await customer.command("call_me", name="Scripted", queue=queue, **extra)
            return customer, ack["callback_id"]

        # Two sales callbacks answered (one by phone), with their dispositions.
        mark = alice.mark()
        customer, callback_id = await call("sales")
        await _answer(alice, customer, callback_id, "Sale made", mark=mark)
        mark = alice.mark()
        customer, callback_id = await call("sales", channel="phone", consent=CONSENT, phone="+64 21 555 0134")
        await _answer(alice, customer, callback_id, "Follow-up needed", mark=mark)

        # A third: declined first (nobody else could take it: offered to her again), then answered.
        mark = alice.mark()
        customer, callback_id = await call("sales")
        offer = (await alice.wait_for("offer", lambda m: m["offer"]["callback_id"] == callback_id, start=mark))
        mark = alice.mark()
        await alice.command("decline", offer_id=offer["offer"]["offer_id"])
        await _answer(alice, customer, callback_id, "Sale made", mark=mark)

        # Support: an offer rings out (2 s; she is set away), the customer gives up after the
        # short-abandon threshold; another gives up at once (a short abandon).
        mark = alice.mark()
        customer, callback_id = await call("support")
        started = time.monotonic()
        offer = (await alice.wait_for("offer", lambda m: m["offer"]["callback_id"] == callback_id, start=mark))
        ended = await alice.wait_for("offer_ended", lambda m: m["offer_id"] == offer["offer"]["offer_id"], timeout=8)
        assert ended["outcome"] == "timed_out"
        await alice.wait_for("agent_state", lambda m: m["state"]["state"] == "away")
        await asyncio.sleep(max(0.0, SHORT + 0.5 - (time.monotonic() - started)))
        await customer.command("cancel", callback_id=callback_id)
        await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "cancelled")
        customer, callback_id = await call("support")
        await customer.command("cancel", callback_id=callback_id)
        await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "cancelled")
    finally:
        for customer in customers:
            await customer.close()
        await alice.command("set_state", state="away", reason="script over")
        await alice.close()
    return {
        "Sales": {"offered": 3, "answered": 3, "abandoned": 0, "short_abandoned": 0, "browser": 2, "phone": 1},
        "Support": {"offered": 2, "answered": 0, "abandoned": 1, "short_abandoned": 1, "browser": 2, "phone": 0},
        "All queues": {"offered": 5, "answered": 3, "abandoned": 1, "short_abandoned": 1, "browser": 4, "phone": 1},
        "alice": {"offers": 5, "accepted": 3, "declined": 1, "missed": 1, "answered": 3},
        "dispositions": {("Sales", "Sale made"): 2, ("Sales", "Follow-up needed"): 1},
    }


async def test_the_report_counts_what_the_script_did(server):
    expected = await _script(server.base_url)
    today = dt.datetime.now(ZoneInfo(ZONE)).date()
    # Yesterday too: the script may have crossed local midnight (the demo's own history is older).
    params = {"from": (today - dt.timedelta(days=1)).isoformat(), "to": today.isoformat(), "period": "day"}
    cookie = await login_cookie(server.base_url, "sam", DEMO_PASSWORD)
    async with httpx.AsyncClient(base_url=server.base_url, headers={"Cookie": cookie}) as http:
        answer = await http.get("/api/v1/reports", params=params)
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert report["range"]["time_zone"] == ZONE

        queues = {row["queue"]: row for row in report["tables"]["queues"]["rows"]}
        for name in ("Sales", "Support", "All queues"):
            assert {k: queues[name][k] for k in expected[name]} == expected[name], name
        sales = queues["Sales"]
        assert sales["average_speed_of_answer"] > 0 and sales["average_handle_time"] > 0
        assert sales["service_level"] is not None and queues["Support"]["service_level"] == 0.0

        agents = {row["agent"]: row for row in report["tables"]["agents"]["rows"]}
        alice = agents["Alice Martin"]
        assert {k: alice[k] for k in expected["alice"]} == expected["alice"]
        assert alice["average_handle_time"] > 0 and 0 < alice["occupancy"] <= 1
        assert alice["staffed_seconds"] > 0

        dispositions = {(row["queue"], row["disposition"]): row["count"]
                        for row in report["tables"]["dispositions"]["rows"]}
        assert dispositions == expected["dispositions"]
        day_rows = report["tables"]["queue_periods"]["rows"]
        assert sum(row["offered"] for row in day_rows) == 5
        assert sum(report["chart"]["offered"]) == 5 and sum(report["chart"]["answered"]) == 3

        # The CSV of a table is that table.
        csv_answer = await http.get("/api/v1/reports/queues.csv", params=params)
        assert csv_answer.status_code == 200
        assert csv_answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(csv_answer.text)))
        assert rows[0][:4] == ["Queue", "Offered", "Answered", "Abandoned"]
        assert [row[:4] for row in rows[1:]] == [
            [name, *(str(queues[name][k]) for k in ("offered", "answered", "abandoned"))]
            for name in ("Sales", "Support", "All queues")]


async def test_bad_ranges_and_callers_are_refused_clearly(server):
    cookie = await login_cookie(server.base_url, "sam", DEMO_PASSWORD)
    today = dt.datetime.now(ZoneInfo(ZONE)).date()
    async with httpx.AsyncClient(base_url=server.base_url, headers={"Cookie": cookie}) as http:
        for params, words in [
            ({"from": "2026-11-20", "to": "2026-11-10"}, "wrong way round"),
            ({"from": "2020-01-01", "to": "2026-11-10", "period": "week"}, "at most 2 years"),
            ({"from": today.isoformat(), "to": (today + dt.timedelta(days=3)).isoformat()}, "in the future"),
            ({"from": "yesterday"}, "YYYY-MM-DD"),
        ]:
            answer = await http.get("/api/v1/reports", params=params)
            assert answer.status_code == 422, params
            assert answer.json()["error"]["code"] == "invalid_range"
            assert words in answer.json()["error"]["message"]
        assert (await http.get("/api/v1/reports/nope.csv")).status_code == 404
        page = await http.get("/reports")
        assert page.status_code == 200 and "Contact centre history" in page.text
        assert 'href="/reports"' in (await http.get("/supervisor")).text
    agent_cookie = await login_cookie(server.base_url, "bob", DEMO_PASSWORD)
    async with httpx.AsyncClient(base_url=server.base_url, headers={"Cookie": agent_cookie}) as http:
        assert (await http.get("/api/v1/reports")).status_code == 403
        assert (await http.get("/reports")).status_code == 403
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        assert (await http.get("/api/v1/reports")).status_code == 401
