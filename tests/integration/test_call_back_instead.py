"""The leader turning a waiting caller into a phone callback (``call_back_instead``), driven by
hand with its clock passed in (as in test_inbound_lines), on SQLite and PostgreSQL.

Two callers wait in line; the first chooses a callback before any heartbeat listed their line
(a new leader's expectation): in the database (channel, number, consent, a ``callback_chosen``
entry) and in the router, their place kept, and never abandoned for a line that went. A number
that already has a phone callback waiting is refused ``phone_waiting`` (nothing changed); a
callback being offered, ``invalid_state``; a browser callback too.
"""

from __future__ import annotations


from desktop.routing import commands
from desktop.routing.reachability import PROCESS_TIMEOUT
from signaling.bus import open_bus
from tests.helpers.leader import leader_by_hand

T0 = 1_000_000.0
FIRST, SECOND, BOOKED = "+442079460491", "+442079460492", "+442079460493"
CONSENT = {"at": T0, "address": FIRST, "page": "+442079460500", "text": "press 1", "locale": "en", "via": "inbound_call"}


async def _caller(repo, callback_id: str, number: str, at: float) -> None:
    caller = await repo.caller(number, now=at)
    await repo.create_callback(id=callback_id, visitor_id=None, customer_id=caller.customer.id, queue="sales",
                               name="", topic="", message="", channel="phone_inbound", phone=number,
                               tier="standard", scheduled_at=None, now=at)


def choose(callback_id: str, number: str) -> dict:
    return commands.CallBackInstead(callback_id=callback_id, phone=number, consent={**CONSENT, "address": number},
                                    data={"number": number, "line": "+442079460500", "queue": "sales",
                                          "waited_s": 30.0}).to_dict()


async def test_a_caller_who_chooses_a_callback_keeps_their_place_and_is_never_taken_for_lost(repo):
    await repo.upsert_queue("sales", title="Sales", skills=["sales"], service_level_target=20)
    await _caller(repo, "cb-first", FIRST, T0 - 30)
    await _caller(repo, "cb-second", SECOND, T0 - 20)
    await _caller(repo, "cb-booked", BOOKED, T0 - 10)
    booked = await repo.caller(BOOKED, now=T0)
    await repo.create_callback(id="cb-web", visitor_id=None, customer_id=booked.customer.id, queue="sales",
                               name="", topic="", message="", channel="phone", phone=BOOKED, tier="standard",
                               scheduled_at=T0 + 3600, now=T0)
    now = [T0]
    async with open_bus(None) as bus:
        leader = await leader_by_hand(repo, bus, lambda: now[0])
        assert (await leader._apply(commands.decode(choose("cb-first", FIRST))))["ok"]
        refused = await leader._apply(commands.decode(choose("cb-booked", BOOKED)))
        assert (refused["ok"], refused["code"]) == (False, "phone_waiting")
        refused = await leader._apply(commands.decode(choose("cb-web", BOOKED)))
        assert (refused["ok"], refused["code"]) == (False, "invalid_state")
        again = await leader._apply(commands.decode(choose("cb-first", FIRST)))
        assert (again["ok"], again["code"]) == (False, "invalid_state")

        # No heartbeat lists the first caller's line (it is closed): they are not lost for it.
        await leader._apply_safely(commands.InboundLines(process="p2", lines=["cb-second", "cb-booked"]).to_dict())
        now[0] = T0 + PROCESS_TIMEOUT + 1
        # A heartbeat that crossed our BYE still lists it: the line is not watched again.
        await leader._apply_safely(commands.InboundLines(process="p2", lines=["cb-first", "cb-second",
                                                                              "cb-booked"]).to_dict())
        assert "cb-first" not in leader.reach.line_of  # p2 dying now would not take it for lost
        await leader._due(now[0])
        assert leader.router.waiting("sales") == ["cb-first", "cb-second", "cb-booked"]

    first, booked_caller = await repo.get_callback("cb-first"), await repo.get_callback("cb-booked")
    assert (first.channel, first.state, first.phone, first.enqueued_at) == ("phone", "queued", FIRST, T0 - 30)
    assert first.consent == {**CONSENT, "address": FIRST}
    assert (booked_caller.channel, booked_caller.state) == ("phone_inbound", "queued")  # unchanged
    entry = await repo.last_contact_event(first.customer_id, kind="callback_chosen", callback_id="cb-first")
    assert entry.data["number"] == FIRST and entry.at == T0
