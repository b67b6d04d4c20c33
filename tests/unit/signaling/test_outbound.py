"""The server's messages are built from their structs: a wrong field fails where it is built,
and the dict the bus carries is what the browsers read (absent vs null kept apart)."""

from __future__ import annotations

import json

import msgspec
import pytest

from desktop.routing import commands
from signaling.protocol import outbound
from signaling.protocol.outbound import OutContact, OutCobrowseEvents, OutCobrowseState, OutCustomerPage


def test_a_misspelt_or_missing_field_fails_where_the_message_is_built():
    with pytest.raises(TypeError, match="tittle"):
        OutCustomerPage(callback_id="c1", url="https://shop/", tittle="Shop", at=1.0)
    with pytest.raises(TypeError, match="title"):
        OutCustomerPage(callback_id="c1", url="https://shop/", at=1.0)
    with pytest.raises(TypeError, match="extra"):
        outbound.ack("k1", extra=1)


def test_an_unset_field_is_left_out_and_none_is_sent_as_null():
    assert OutContact(contact=None).to_dict() == {"type": "contact", "contact": None}
    assert OutContact(contact=None, wrapped_up="c1").to_dict() == {"type": "contact", "contact": None,
                                                                    "wrapped_up": "c1"}
    state = OutCobrowseState(visitor_id="v1", state="paused", request_id=None, agent_id="a1", at=2.0).to_dict()
    assert state == {"type": "cobrowse_state", "visitor_id": "v1", "state": "paused", "request_id": None,
                     "agent_id": "a1", "at": 2.0}


def test_error_and_ack_read_as_before():
    assert outbound.error("rate_limited", "slow down", command_id="k1", retry_after=3.2) == {
        "type": "error", "code": "rate_limited", "message": "slow down", "id": "k1", "retry_after": 4}
    assert outbound.error("bad_json", "not JSON") == {"type": "error", "code": "bad_json", "message": "not JSON"}
    assert outbound.ack("k1", callback_id="c1") == {"type": "ack", "id": "k1", "callback_id": "c1"}


def test_rrweb_frames_pass_through_unparsed():
    events = b'[{"type":2,"timestamp":1,"data":{}}]'
    message = OutCobrowseEvents(visitor_id="v1", events=msgspec.Raw(events)).to_dict()
    assert json.loads(outbound.encode(message)) == {"type": "cobrowse_events", "visitor_id": "v1",
                                                    "events": json.loads(events)}


def test_a_welcome_is_checked_against_its_role():
    fields = {"visitor_id": "v1", "callback": None, "queues": [], "voice": {"ice_servers": [], "calls": []},
              "locale": None, "after_call": None, "look": None}
    welcome = outbound.welcome(msgspec.convert(fields, outbound.CustomerWelcome), seq=4, now=5.0)
    assert welcome == {"type": "welcome", "seq": 4, "now": 5.0, **fields}
    with pytest.raises(msgspec.ValidationError, match="voice"):
        msgspec.convert({**fields, "voice": None}, outbound.CustomerWelcome)
    with pytest.raises(msgspec.ValidationError, match="cobrowse"):
        msgspec.convert({**fields, "cobrowse": []}, outbound.CustomerWelcome)
    look = {"accent": "#0f766e", "position": "bottom-left", "greeting": {"en": "Hi"}}
    assert msgspec.convert({**fields, "look": look}, outbound.CustomerWelcome).look.accent == "#0f766e"
    with pytest.raises(msgspec.ValidationError, match="accent"):  # the widget writes it into its CSS
        msgspec.convert({**fields, "look": {**look, "accent": "red;}"}}, outbound.CustomerWelcome)


def test_a_callback_status_from_the_pure_core_is_checked():
    status = {"id": "c1", "state": "queued", "queue": "sales", "channel": "browser", "phone": None,
              "position": 1, "estimated_wait": 30, "scheduled_at": None, "nobody_available": False,
              "agent_name": None, "created_at": 1.0}
    message = {"type": "callback_status", "callback": status}
    assert outbound.checked(outbound.OutCallbackStatus, message) == message
    del status["queue"]
    with pytest.raises(msgspec.ValidationError, match="queue"):
        outbound.checked(outbound.OutCallbackStatus, message)


def test_router_commands_travel_as_dicts_and_come_back_as_their_structs():
    sent = commands.WrapUp(agent_id="a1", callback_id="c1", disposition="Resolved", rid="r1").to_dict()
    assert sent == {"op": "wrap_up", "rid": "r1", "agent_id": "a1", "callback_id": "c1",
                    "disposition": "Resolved"}
    assert commands.decode(sent) == commands.WrapUp(agent_id="a1", callback_id="c1", disposition="Resolved",
                                                    rid="r1")
    with pytest.raises(msgspec.ValidationError):
        commands.decode({"op": "set_sate", "agent_id": "a1", "state": "available"})
    with pytest.raises(msgspec.ValidationError):
        commands.decode({"op": "accept", "agent_id": "a1"})  # no offer_id
    with pytest.raises(TypeError):
        commands.Accept(agent_id="a1", offer="o1")
