"""Who hears whom: a pure function of a call's state, no I/O.

Every browser leg has two outgoing audio slots, negotiated up front:
``MAIN`` (the other party) and ``EXTRA`` (a second voice: the supervisor for a
whispered-to agent or a barged customer; the agent for a listening
supervisor, whose ``MAIN`` is the customer). Switching who is heard never
renegotiates: the anchor only changes which source feeds which slot.
"""

from __future__ import annotations

import dataclasses
import enum

__all__ = ["Role", "Mode", "Source", "MAIN", "EXTRA", "CallState", "who_hears"]

MAIN = 0
EXTRA = 1


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SUPERVISOR = "supervisor"


class Mode(enum.StrEnum):
    """What a supervisor on a call does."""

    LISTEN = "listen"    # hears both, heard by nobody
    WHISPER = "whisper"  # the agent hears the supervisor, the customer does not
    BARGE = "barge"      # all three hear each other


class Source(enum.StrEnum):
    """What can feed a slot besides a participant's voice."""

    HOLD = "hold"          # the hold tone, to the customer
    RINGBACK = "ringback"  # a phone ringing with no early media of its own: the ring, to the agent
    RECORDER = "recorder"  # not a source: the destination "role" of recorded packets


@dataclasses.dataclass(frozen=True, kw_only=True)
class CallState:
    muted: frozenset[Role] = frozenset()
    held: bool = False
    #: None when no supervisor is on the call.
    supervisor: Mode | None = None
    recording: bool = False
    #: The customer's phone is ringing and sends no early media: the agent hears a ringback tone.
    ringback: bool = False


Target = tuple[str, int]  # (role or Source.RECORDER, slot)


def who_hears(state: CallState) -> dict[str, tuple[Target, ...]]:
    """Where each source's packets go: ``{source: ((destination, slot), ...)}``.

    Sources are the roles plus ``Source.HOLD`` and ``Source.RINGBACK`` (the agent hears it while
    a phone rings without early media of its own). A muted party is heard by
    nobody (nor recorded); on hold the customer hears the hold tone and the
    two parties don't hear each other (a supervisor still hears both).
    """
    out: dict[str, list[Target]] = {Role.CUSTOMER: [], Role.AGENT: [], Role.SUPERVISOR: [], Source.HOLD: [],
                                    Source.RINGBACK: []}
    customer_on = Role.CUSTOMER not in state.muted
    agent_on = Role.AGENT not in state.muted
    if customer_on and not state.held:
        out[Role.CUSTOMER].append((Role.AGENT, MAIN))
        if state.recording:
            out[Role.CUSTOMER].append((Source.RECORDER, 0))
    if agent_on and not state.held:
        out[Role.AGENT].append((Role.CUSTOMER, MAIN))
        if state.recording:
            out[Role.AGENT].append((Source.RECORDER, 1))
    if state.held:
        out[Source.HOLD].append((Role.CUSTOMER, MAIN))
    if state.ringback:
        out[Source.RINGBACK].append((Role.AGENT, MAIN))
    if state.supervisor is not None:
        if customer_on:
            out[Role.CUSTOMER].append((Role.SUPERVISOR, MAIN))
        if agent_on:
            out[Role.AGENT].append((Role.SUPERVISOR, EXTRA))
        if state.supervisor in (Mode.WHISPER, Mode.BARGE):
            out[Role.SUPERVISOR].append((Role.AGENT, EXTRA))
        if state.supervisor == Mode.BARGE and not state.held:
            out[Role.SUPERVISOR].append((Role.CUSTOMER, EXTRA))
    return {source: tuple(targets) for source, targets in out.items()}
