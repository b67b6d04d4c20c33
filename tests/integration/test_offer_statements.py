"""What a callback costs the database on its way to an agent (issue 15): from the customer's
``call_me`` to the ``offer`` on the agent's socket, the statements and the database calls (pool
checkouts) both processes' work runs, pinned, so that one more on the hot path is seen. Each
statement costs ~0.7 ms of SQLAlchemy's and the driver's CPU on PostgreSQL, each call more (a
checkout, a greenlet, a transaction's BEGIN and COMMIT): at 10,000 sockets the offer's p99 was
the CPU of these. In-process, one process leading (the bench splits them over two: the count
is the same)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool
from starlette.testclient import TestClient

from desktop.app import create_app
from desktop.repository import Repository
from desktop.settings import Settings

#: A browser callback offered at once to the one available agent: the customer's process
#: (revoked?, queues, an active request?, the head record and tier (2), the request's write:
#: the name, the callback, its timeline entry, the webhook subscriptions; the articles read)
#: then the leader's (the callback, the routing batch: owners, offer, callback, agent state
#: (2), timeline entries; the card: callback, customer, visitor, trail, timeline).
#: On PostgreSQL 29 statements in 15 calls before 2026-12-04 (SQLite 30). SQLite writes the two timeline
#: entries of the batch one by one (no multi-row INSERT ... RETURNING there).
STATEMENTS = {"postgresql": 22, "sqlite": 23}
CALLS = 9


class Ledger:
    """The statements and pool checkouts of every engine while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.statements: list[str] = []
        self.checkouts = 0
        self._lock = threading.Lock()  # SQLite's run on worker threads

    def statement(self, conn, cursor, statement: str, *args) -> None:
        text = " ".join(statement.split())
        # SQLite's BEGIN [IMMEDIATE] is a statement of ours (the driver's is off); PostgreSQL's
        # is asyncpg's own. Not counted: it is the call's, counted as a checkout.
        if not self.on or text.startswith("BEGIN"):
            return
        with self._lock:
            self.statements.append(text)

    def checkout(self, *args) -> None:
        if self.on:
            with self._lock:
                self.checkouts += 1

    def callback_statements(self) -> list[str]:
        return [s for s in self.statements if not _wall(s)]

    def callback_checkouts(self) -> int:
        return self.checkouts - sum(1 for s in self.statements if _wall(s))


def _wall(statement: str) -> bool:
    # The leader's wall reads today's figures (one statement, one call) at most once a second,
    # whatever the calls: not the callback's.
    return " AS offered, " in statement


@pytest.fixture
def ledger():
    kept = Ledger()
    event.listen(Engine, "before_cursor_execute", kept.statement)
    event.listen(Pool, "checkout", kept.checkout)
    yield kept
    event.remove(Engine, "before_cursor_execute", kept.statement)
    event.remove(Pool, "checkout", kept.checkout)


@pytest.fixture
def client(database_url: str, tmp_path) -> TestClient:
    settings = Settings(var_dir=tmp_path / "var", database_url=database_url, secret_key="test-secret",
                        process_id="statements", trusted_proxies=("testclient",),
                        webhook_poll=3600.0, history_rollups=False, retention_interval=36000.0)
    settings.var_dir.mkdir(exist_ok=True)

    async def seed() -> None:  # before the router starts: it loads the queues as it leads
        async with Repository.open(settings.effective_database_url, upgrade=True) as repo:
            await repo.upsert_queue("support", title="Support", skills=["support"], service_level_target=60)
            await repo.add_agent("ada", "ada-password-1", display_name="Ada", skills=["support"])

    asyncio.run(seed())
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        deadline = time.monotonic() + 10
        while not client.get("/healthz").json()["leader"]:
            assert time.monotonic() < deadline, "no router leader"
            time.sleep(0.02)
        yield client


def receive(socket, type_: str) -> dict:
    while (message := socket.receive_json())["type"] != type_:
        pass
    return message


def test_a_callback_reaches_its_agent_in_a_pinned_number_of_statements(client: TestClient, ledger,
                                                                        database_url: str) -> None:
    expected = (STATEMENTS["sqlite" if database_url.startswith("sqlite") else "postgresql"], CALLS)
    form = client.get("/login").text
    csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"username": "ada", "password": "ada-password-1", "csrf_token": csrf},
                follow_redirects=False)
    cookie = f"otodesk_session={client.cookies.get('otodesk_session')}"
    with client.websocket_connect("/ws/agent", headers={"cookie": cookie}) as agent:
        agent.send_text(json.dumps({"type": "hello"}))
        assert agent.receive_json()["type"] == "welcome"
        agent.send_text(json.dumps({"type": "set_state", "id": "s", "state": "available"}))
        receive(agent, "ack")
        for n in range(3):  # the first warms what is built once; all three must agree
            headers = {"X-Forwarded-For": f"203.0.113.{n + 1}"}
            token = client.post("/api/visitor", json={}, headers=headers).json()["token"]
            with client.websocket_connect("/ws/customer", headers=headers) as customer:
                customer.send_text(json.dumps({"type": "hello", "token": token,
                                               "url": "http://shop.test/kettle", "title": "Kettle"}))
                assert customer.receive_json()["type"] == "welcome"
                time.sleep(0.3)  # the hello's page view and presence are written before
                ledger.statements.clear()
                ledger.checkouts, ledger.on = 0, True
                customer.send_text(json.dumps({"type": "call_me", "id": f"c{n}", "name": "Mia", "queue": "support"}))
                ack = receive(customer, "ack")
                offer = receive(agent, "offer")["offer"]
                ledger.on = False
                assert offer["callback_id"] == ack["callback_id"]
                assert offer["customer"]["name"] == "Mia" and offer["page"]["url"] == "http://shop.test/kettle"
                counted = (len(ledger.callback_statements()), ledger.callback_checkouts())
                listing = "\n".join(s[:120] for s in ledger.callback_statements())
                assert counted == expected, f"call {n}: {counted} (statements, calls):\n{listing}"
                for type_, fields in (("accept", {"offer_id": offer["offer_id"]}),
                                      ("end", {"callback_id": ack["callback_id"]}),
                                      ("wrap_up", {"callback_id": ack["callback_id"], "disposition": "Resolved"})):
                    agent.send_text(json.dumps({"type": type_, "id": f"{type_}{n}", **fields}))
                    receive(agent, "ack")  # the wrap-up's: available again, for the next call
