"""The rules of calling a customer's phone, through a real server's sockets, on SQLite and
PostgreSQL: a request outside the number's calling hours is booked for the next allowed
time (never queued now), one open request per number, the consent stored with the request
(and on the timeline, and in the API), the country allowlist.

The calling hours are set from the clock when the test starts (a window two hours ahead on an
Icelandic number, whose zone is UTC all year), so the test holds at any time of day.
"""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest

from desktop.repository import Repository
from signaling.client import CommandFailed, CustomerBot
from tests.helpers.server import CONSENT, running_server

pytestmark = pytest.mark.asyncio

NUMBER = "+354 611 1234"        # an Icelandic mobile: Atlantic/Reykjavik, UTC without DST
E164 = "+3546111234"
FOREIGN = "+44 20 7946 0123"    # the United Kingdom: not on the allowlist
XFF = "203.0.113.7"             # the customer's address as the trusted proxy reports it


async def customer(base_url: str, *, url: str = "http://shop.test/", forwarded: str | None = None) -> CustomerBot:
    """A customer bot whose sockets come through the proxy (X-Forwarded-For) when ``forwarded``."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        data = (await http.post("/api/visitor", json={"token": None})).raise_for_status().json()
    bot = CustomerBot(base_url, headers={"X-Forwarded-For": forwarded} if forwarded else {},
                      hello={"token": data["token"], "url": url, "title": "Checkout"})
    bot.token, bot.visitor_id = data["token"], data["visitor_id"]
    await bot.connect()
    return bot


async def test_rules_of_calling_on_a_real_server(database_url, tmp_path) -> None:
    now = time.time()
    opens = (int(now) // 60) * 60 + 2 * 3600  # a whole minute, two hours from now
    start = dt.datetime.fromtimestamp(opens, dt.timezone.utc)
    window = f"{start:%H:%M}-{start + dt.timedelta(hours=1):%H:%M}"
    env = {"OTODESK_DATABASE_URL": database_url, "OTODESK_CALLING_HOURS": window,
           "OTODESK_DEFAULT_REGION": "IS", "OTODESK_PHONE_COUNTRIES": "",  # the default: the centre's own
           "OTODESK_TRUSTED_PROXIES": "127.0.0.1", "OTODESK_CALLME_PER_ADDRESS": "100"}
    with running_server(tmp_path / "var", env=env, log_dir=tmp_path) as server:
        first = await customer(server.base_url, url="http://shop.test/checkout?step=2", forwarded=XFF)
        second = await customer(server.base_url)
        try:
            # Now is outside the window on the phone's clock: booked for its start, not queued.
            ack = await first.command("call_me", name="Sigga", queue="sales", channel="phone",
                                      phone=NUMBER, consent=CONSENT)
            assert ack["calling"]["scheduled_at"] == opens
            assert ack["calling"]["zone"] == "Atlantic/Reykjavik" and ack["calling"]["window"] == window
            assert ack["calling"]["fallback"] is False and ack["calling"]["local"].endswith(f"{start:%H:%M}")
            status = await first.wait_for("callback_status", lambda m: m["callback"]["id"] == ack["callback_id"])
            assert (status["callback"]["state"], status["callback"]["scheduled_at"]) == ("scheduled", opens)

            # The same number from another browser (another format): one request per number,
            # and the answer says where the open one stands (nothing of who asked).
            with pytest.raises(CommandFailed) as waiting:
                await second.command("call_me", name="Someone", queue="sales", channel="phone",
                                     phone="611-1234", consent=CONSENT)
            assert waiting.value.code == "phone_waiting"
            assert waiting.value.error["detail"] == {"state": "scheduled", "scheduled_at": opens}
            assert "already has a callback request (scheduled, for" in waiting.value.error["message"]

            # No consent, no call; a country not on the allowlist (default: the centre's own).
            with pytest.raises(CommandFailed) as unconsented:
                await second.command("call_me", name="Someone", queue="sales", channel="phone", phone="+354 611 9999")
            assert unconsented.value.code == "consent_needed"
            with pytest.raises(CommandFailed) as foreign:
                await second.command("call_me", name="Someone", queue="sales", channel="phone",
                                     phone=FOREIGN, consent=CONSENT)
            assert foreign.value.code == "phone_country"
            assert foreign.value.error["detail"] == {"country": "GB", "allowed": ["IS"]}
            assert "we can only call numbers in Iceland (IS)" in foreign.value.error["message"]

            async with Repository.open(database_url) as repo:
                callback = await repo.get_callback(ack["callback_id"])
                assert callback.state == "scheduled" and callback.scheduled_at == opens and callback.phone == E164
                # The consent record: the sentence, when, the address through the proxy, the page.
                assert callback.consent["text"] == CONSENT
                assert callback.consent["address"] == XFF
                assert callback.consent["page"] == "http://shop.test/checkout?step=2"
                assert now - 5 <= callback.consent["at"] <= time.time()
                requested = (await repo.customer_timeline(callback.customer_id, kinds=["callback_requested"])).events
                assert [e.data["consent"] for e in requested] == [callback.consent]
                _record, key = await repo.create_api_key(name="test", scopes=("read",))

                # A queue whose own calling hours are "any time" (the admin console's) queues at once.
                support = await repo.get_queue("support")
                await repo.admin_save_queue(dict(
                    name="support", title=support.title, skills=list(support.skills),
                    service_level_target=support.service_level_target, sort_order=support.sort_order,
                    offer_timeout=None, wrapup_timeout=None, hours=None, dispositions=None,
                    calling_hours="*"), actor="test")
            async with httpx.AsyncClient(base_url=server.base_url) as http:
                events = (await http.get(f"/api/v1/customers/{callback.customer_id}/events",
                                         params={"kind": "callback_requested"},
                                         headers={"Authorization": f"Bearer {key}"})).raise_for_status().json()
            [item] = [e for e in events["items"] if e["kind"] == "callback_requested"]
            assert item["data"]["consent"]["text"] == CONSENT and item["data"]["consent"]["address"] == XFF

            # Once the first request is cancelled, the number is free again; in a queue that may
            # ring it at any time it is queued now.
            await first.command("cancel", callback_id=ack["callback_id"])
            queued = await second.command("call_me", name="Someone", queue="support", channel="phone",
                                          phone=NUMBER, consent=CONSENT)
            assert "calling" not in queued
            status = await second.wait_for("callback_status", lambda m: m["callback"]["id"] == queued["callback_id"])
            assert status["callback"]["state"] == "queued"
        finally:
            await first.close()
            await second.close()
