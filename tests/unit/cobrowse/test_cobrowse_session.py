"""The co-browse core without I/O: the consent state machine, event checks, reassembly."""

from __future__ import annotations

import json

import pytest

from desktop.cobrowse.session import (
    BadEvents,
    ChunkAssembler,
    InvalidShareState,
    Share,
    ShareLimits,
    ShareState,
    check_events,
)

LIMITS = ShareLimits(max_events=10, max_batch_bytes=1000, max_chunks=4)


def _event(kind: int = 3) -> dict:
    return {"type": kind, "timestamp": 1.7e12, "data": {}}


def test_consent_moves():
    share = Share()
    with pytest.raises(InvalidShareState, match="consent"):
        share.require_sharing()
    share.request(request_id="r1", agent_id="a1", agent_name="Alice")
    with pytest.raises(InvalidShareState):
        share.answer("forged", accept=True, now=10)
    share.answer("r1", accept=True, now=10)
    assert share.state == ShareState.SHARING and share.since == 10
    with pytest.raises(InvalidShareState):
        share.request(request_id="r2", agent_id="a2", agent_name="Bob")
    with pytest.raises(InvalidShareState):
        share.answer("r1", accept=True, now=11)  # answering twice
    assert share.stop() == 10
    assert share.state == ShareState.STOPPED
    with pytest.raises(InvalidShareState, match='state "stopped"'):
        share.stop()
    share.resume(request_id="r1", agent_id="a1", agent_name="Alice", since=10)
    assert share.sharing


def test_refusal_and_withdrawn_request():
    share = Share()
    share.request(request_id="r1", agent_id="a1", agent_name="Alice")
    share.answer("r1", accept=False, now=1)
    assert share.state == ShareState.REFUSED and not share.sharing
    share.request(request_id="r2", agent_id="a1", agent_name="Alice")
    assert share.stop() is None  # withdrawn before an answer: nothing was shared
    assert share.state == ShareState.STOPPED


def test_require_sharing_mentions_consent():
    with pytest.raises(InvalidShareState, match="consent"):
        Share(state=ShareState.REQUESTED).require_sharing()


@pytest.mark.parametrize("events, code", [
    ([], "bad_message"),
    ("x", "bad_message"),
    ([1], "bad_message"),
    ([{"type": 7, "timestamp": 1, "data": {}}], "bad_message"),
    ([{"type": True, "timestamp": 1, "data": {}}], "bad_message"),
    ([{"type": 3, "timestamp": "now", "data": {}}], "bad_message"),
    ([{"type": 3, "timestamp": 1e15, "data": {}}], "bad_message"),
    ([{"type": 3, "timestamp": 1}], "bad_message"),
    ([_event()] * 11, "too_large"),
])
def test_bad_events_are_refused_with_a_code(events, code):
    with pytest.raises(BadEvents) as refused:
        check_events(events, limits=LIMITS)
    assert refused.value.code == code


def test_good_events_pass_unchanged():
    events = [_event(4), _event(2), _event(3)]
    assert check_events(events, limits=LIMITS) is events


def test_chunks_join_in_order():
    text = json.dumps([_event(2), _event(3)])
    assembler = ChunkAssembler(LIMITS)
    parts = [text[:20], text[20:40], text[40:]]
    assert assembler.add("b", 0, 3, parts[0]) is None
    assert assembler.add("b", 1, 3, parts[1]) is None
    assert [e["type"] for e in assembler.add("b", 2, 3, parts[2])] == [2, 3]


def test_chunks_refused():
    assembler = ChunkAssembler(LIMITS)
    with pytest.raises(BadEvents, match="out of order"):
        assembler.add("b", 1, 2, "[")
    with pytest.raises(BadEvents, match="pieces"):
        assembler.add("b", 0, 5, "[")
    with pytest.raises(BadEvents) as big:
        assembler.add("b", 0, 2, "x" * 1001)
    assert big.value.code == "too_large"
    with pytest.raises(BadEvents, match="not a JSON list"):
        assembler.add("c", 0, 1, "{not json")
    # A new batch drops an unfinished one.
    assert assembler.add("d", 0, 2, "[") is None
    text = json.dumps([_event()])
    assert assembler.add("e", 0, 1, text) == [_event()]


def test_byte_budget_refuses_a_flood_then_recovers():
    from desktop.cobrowse.session import ByteBudget

    budget = ByteBudget(ShareLimits(bytes_per_second=100, burst_bytes=1000), now=0)
    budget.take(900, now=0)
    with pytest.raises(BadEvents) as flood:
        budget.take(200, now=0.5)  # 150 left
    assert flood.value.code == "rate_limited"
    budget.take(200, now=1.0)  # 100 more a second: 200 again


def test_the_recorder_pace_fits_inside_the_hub_limits():
    """Issue 9 item 14: pieces sent at the pace the share announces are never refused by the
    hub's per-socket limit, however many there are (a 7 MB page was 262 pieces)."""
    from signaling.hub import HubLimits
    from signaling.limits import TokenBucket

    hub = HubLimits()
    limits = ShareLimits.within_hub(messages_per_second=hub.messages_per_second,
                                    message_burst=hub.message_burst, max_message_bytes=hub.max_message_bytes)
    assert limits.piece_chars + 200 < hub.max_message_bytes
    # The recorder's bucket (pace) decides when each piece leaves; the hub's bucket judges it,
    # with one other message (pointer, input) a second on the same socket.
    hub_bucket = TokenBucket(rate=hub.messages_per_second, burst=hub.message_burst, now=0.0)
    tokens, now, refused = float(limits.piece_burst), 0.0, 0
    for piece in range(limits.max_chunks):
        if tokens < 1:
            now += (1 - tokens) / limits.pieces_per_second
            tokens = 1.0
        tokens -= 1
        refused += not hub_bucket.take(now)
        if piece % max(1, int(limits.pieces_per_second)) == 0:
            refused += not hub_bucket.take(now)
        tokens = min(limits.piece_burst, tokens)
    assert refused == 0


def test_deflated_pieces_are_joined_and_inflated_within_limits():
    import base64
    import zlib

    events = [{"type": 2, "timestamp": 1e12, "data": {"node": {"text": "word " * 50_000}}}]
    packed = base64.b64encode(zlib.compress(json.dumps(events).encode())).decode()
    assembler = ChunkAssembler(ShareLimits())
    pieces = [packed[i:i + 1000] for i in range(0, len(packed), 1000)]
    for index, piece in enumerate(pieces[:-1]):
        assert assembler.add("b", index, len(pieces), piece, "deflate") is None
    assert assembler.add("b", len(pieces) - 1, len(pieces), pieces[-1], "deflate") == events
    small = ChunkAssembler(ShareLimits(max_batch_bytes=1000))
    with pytest.raises(BadEvents) as bomb:
        small.add("c", 0, 1, packed, "deflate")
    assert bomb.value.code == "too_large"
    with pytest.raises(BadEvents):
        small.add("d", 0, 1, base64.b64encode(zlib.compress(b"[]"))[:-6].decode(), "deflate")
