"""What any process asks of the router's leader: one struct per command.

Plain data, no I/O: it lives beside the router it drives so that every layer that asks
something of it (sockets, the web layer's sign-out, voice) can import it without importing
the leader's package.

:class:`~desktop.leader.client.RouterClient` sends a command over the bus's router inbox
(as a dict tagged ``op``, the bus carrying JSON); the leader's service decodes it with
:func:`decode` against :data:`RouterCommand` and applies it through a table of handlers
(``desktop/leader/service.py``). A field misspelt or missing raises ``TypeError`` where the
command is built, and a command the leader can't read is refused with ``bad_message``.

Every command may carry ``command_key`` (a browser command's id, so a retry on any process
gets the first outcome: ``desktop/leader/outcomes.py``). The client sets ``rid``,
``reply_to`` and ``sent_at``; a command with ``rid`` is answered on ``reply:<reply_to>``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

__all__ = [
    "Command", "RouterCommand", "decode",
    "SetState", "Accept", "Decline", "End", "WrapUp", "Cancel", "Abandon", "CallbackAdded", "Status",
    "CallBackInstead",
    "ProcessAlive", "InboundLines", "PresenceEntry", "Presences", "PRESENCES_LIMIT",
    "CustomerPresence", "AgentPresence", "SignedOut", "Wall", "QueuesChanged", "QueueRemoved", "AgentChanged",
]

#: Sockets one ``Presences`` command may carry (a few tens of KB of JSON on the bus).
PRESENCES_LIMIT = 500


class Command(msgspec.Struct, tag_field="op", kw_only=True, frozen=True, omit_defaults=True,
              forbid_unknown_fields=True):
    """Base of every router command; the envelope fields are set by the client."""

    command_key: str | None = None
    rid: str | None = None
    reply_to: str | None = None
    sent_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """As the bus carries it: ``op`` and the fields set (defaults left out)."""
        return msgspec.to_builtins(self)


# -- an agent's desk ----------------------------------------------------------------------------

class SetState(Command, tag="set_state"):
    agent_id: str
    state: Literal["available", "away"]
    reason: str = ""


class Accept(Command, tag="accept"):
    agent_id: str
    offer_id: str


class Decline(Command, tag="decline"):
    agent_id: str
    offer_id: str


class End(Command, tag="end"):
    """End the conversation (the agent's End, either party's hang-up): the agent goes to wrap-up."""

    agent_id: str
    callback_id: str


class WrapUp(Command, tag="wrap_up"):
    agent_id: str
    callback_id: str
    disposition: str
    note: str = ""
    timed_out: bool = False
    #: What was done, for the customer (desktop/aftercall); empty: nothing is shown or sent.
    summary: str = ""


class SignedOut(Command, tag="signed_out"):
    """The agent signed out: logged out now, unless a contact is still theirs to finish."""

    agent_id: str


# -- a customer's callback ----------------------------------------------------------------------

class CallbackAdded(Command, tag="callback_added"):
    """A callback was committed to the database: route it."""

    callback_id: str


class Cancel(Command, tag="cancel"):
    callback_id: str


class Abandon(Command, tag="abandon"):
    """The customer gave up while waiting (an inbound caller hung up): abandoned now, no grace."""

    callback_id: str
    #: Why (``desktop.routing.events.HUNG_UP``...), on the timeline entry; "" if not said.
    reason: str = ""


class CallBackInstead(Command, tag="call_back_instead"):
    """An inbound caller pressed 1 while waiting: hang them up and call them back, their place in
    line kept. The leader turns the callback (QUEUED, channel ``phone_inbound``) into a phone
    callback to ``phone`` (E.164, already checked as callable), with ``consent`` (what they
    agreed to: the prompt's text, when, the line they called) and a ``callback_chosen`` entry
    on their timeline (``data``); refused ``invalid_state`` once offered or ended and
    ``phone_waiting`` if the number has a callback waiting already."""

    callback_id: str
    phone: str
    consent: dict[str, Any]
    data: dict[str, Any]


class Status(Command, tag="status"):
    """Tell the customer where their callback stands, even if nothing changed."""

    callback_id: str


# -- presence and hints ---------------------------------------------------------------------------

class ProcessAlive(Command, tag="process_alive"):
    """A process's heartbeat: its sockets are still there."""

    process: str


class InboundLines(Command, tag="inbound_lines"):
    """With the heartbeat of a process that takes inbound calls: the ones it carries now
    (callback ids). A command of its own, so that a leader older than it refuses only this."""

    process: str
    lines: list[str]


class PresenceEntry(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One socket of a process opened (``present``) or closed."""

    role: Literal["customer", "agent"]
    #: The customer's visitor id, or the agent's id.
    identity: str
    #: ``"<process>:<n>"``: the process is known by its prefix (its sockets go with it).
    socket: str
    present: bool


class Presences(Command, tag="presences"):
    """Sockets opened and closed, in the order they did (a socket's own open before its close),
    up to :data:`PRESENCES_LIMIT`: applied one by one, as ``CustomerPresence`` and
    ``AgentPresence`` each were. What a process sends (``desktop/sockets/presence.py``): a few
    of these carry a whole process's sockets (its re-announce to a new leader, a mass
    disconnect) without overflowing the router inbox."""

    entries: Annotated[list[PresenceEntry], msgspec.Meta(min_length=1, max_length=PRESENCES_LIMIT)]


# One socket a command: what processes sent before ``Presences``. Still applied, so that during
# a rolling upgrade the processes not yet upgraded are heard by an upgraded leader.

class CustomerPresence(Command, tag="customer_presence"):
    visitor_id: str
    socket: str
    present: bool


class AgentPresence(Command, tag="agent_presence"):
    agent_id: str
    socket: str
    present: bool


class Wall(Command, tag="wall"):
    """A supervisor's socket needs a whole wall (none in the room's replay to start from, or a
    delta that did not follow the wall shown): publish one within a second."""


# -- the admin console ------------------------------------------------------------------------


class QueuesChanged(Command, tag="queues_changed"):
    """An admin added or changed a queue: the router re-reads the queues, no restart."""


class QueueRemoved(Command, tag="queue_removed"):
    """An admin deleted a queue (its waiting callbacks already moved to ``fallback`` in the
    database): the router moves them too, and their customers are told."""

    name: str
    fallback: str


class AgentChanged(Command, tag="agent_changed"):
    """An admin changed an account (skills, role, disabled): the router takes it now."""

    agent_id: str


RouterCommand = (SetState | Accept | Decline | End | WrapUp | SignedOut | CallbackAdded | Cancel | Abandon | Status
                 | CallBackInstead | ProcessAlive | InboundLines | Presences | CustomerPresence | AgentPresence | Wall
                 | QueuesChanged | QueueRemoved | AgentChanged)


def decode(message: dict[str, Any]) -> Command:
    """The command a bus message holds; raises ``msgspec.ValidationError`` (unknown ``op``,
    a field missing, unknown or of the wrong type)."""
    return msgspec.convert(message, RouterCommand)
