"""Every bus room the desktop publishes to: one registry, so every process agrees on the names
and erasure (``desktop/contacts/privacy.py``) knows which rooms may hold whose details.

A room is a *family*: one fixed name (``wall``) or a prefix and an id (``visitor:<id>``).
:data:`FAMILIES` lists each with what it carries and how an erasure treats its replay window
(:class:`Erase`); the functions and constants below build the names. A room named anywhere
else is a bug (tests/unit/test_rooms.py looks for one). Not rooms, so not here: the keys of
``Bus.take`` / ``hit`` / ``remember`` (rate limits, command outcomes) and lease names.
"""

from __future__ import annotations

import dataclasses
import enum

__all__ = [
    "CENTRE_ROOM", "FAMILIES", "QUEUES_ROOM", "RULES_ROOM", "SYSTEM_ROOM", "WALL_KEEP", "WALL_ROOM", "Erase", "RoomFamily", "agent_room",
    "call_room", "documents_room", "erased_prefixes", "family_of", "frames_room", "inbox_room", "reply_room",
    "visitor_room", "voice_reply_room",
]

WALL_ROOM = "wall"
#: Events kept for replay: a whole wall a minute (177 KB with 1,000 agents) and the deltas
#: after it (at most one a second, desktop/leader/wall_feed.py), with the voice events that
#: share the room; a joiner starts from the newest whole wall and applies what follows.
WALL_KEEP = 200
SYSTEM_ROOM = "system"  # who leads the router, for processes to re-announce their sockets
#: Whether each queue can answer now (desktop/routing/status.py ``queue_availability``): the
#: newest event is what the widget is told before a customer asks (its welcome, ``queues``).
QUEUES_ROOM = "queues"
#: A published rules version (``{"type": "rules_published", "version": n}``): every process
#: loads it from the repository and compiles it (desktop/leader/live_rules.py).
RULES_ROOM = "rules"
#: The console's settings changed (``{"type": "centre_changed"}``): every process reads them again
#: (urgent words, the widget's look, the sites that may embed it: desktop/leader/live_centre.py).
CENTRE_ROOM = "centre"


class Erase(enum.Enum):
    """What erasing a person does to a family's replay windows."""

    #: Named after one visitor (``<prefix><visitor id>``): erased with each of the person's visitors.
    VISITOR = "visitor"
    #: Named after one callback: erased with each of the person's callbacks.
    CALLBACK = "callback"
    #: May show anybody's details: every room of the family is erased (clients resync).
    EVERY_ROOM = "every room"
    #: Carries nothing about a person.
    NEVER = "never"


@dataclasses.dataclass(frozen=True, slots=True)
class RoomFamily:
    #: The room's whole name for a single room, else what precedes the id.
    prefix: str
    erase: Erase
    #: What it carries and who publishes it, for the reader deciding ``erase``.
    carries: str


FAMILIES: tuple[RoomFamily, ...] = (
    RoomFamily("agent:", Erase.EVERY_ROOM, "one staff member's desk: offers and contact cards (names, phones, "
               "pages), their state, call events (desktop/leader, desktop/sockets, desktop/voice)"),
    RoomFamily("visitor:", Erase.VISITOR, "one browser's widget: callback status, call events, sign-out"),
    RoomFamily(WALL_ROOM, Erase.EVERY_ROOM, "the supervisors' wall: waiting customers and agents, call events"),
    RoomFamily(QUEUES_ROOM, Erase.NEVER, "whether each queue can answer now"),
    RoomFamily(SYSTEM_ROOM, Erase.NEVER, "which process leads the router"),
    RoomFamily(CENTRE_ROOM, Erase.NEVER, "that the console's settings changed (desktop/leader/live_centre.py)"),
    RoomFamily(RULES_ROOM, Erase.NEVER, "which business-rules version was published (desktop/leader/live_rules.py)"),
    RoomFamily("cobrowse:", Erase.VISITOR, "co-browse frames: a visitor's page (rrweb), share and document state"),
    RoomFamily("cobrowse-in:", Erase.VISITOR, "co-browse inbox: what viewers send a visitor's page"),
    RoomFamily("documents:", Erase.VISITOR, "the documents open on a visitor's screen"),
    RoomFamily("voice:", Erase.CALLBACK, "a call's requests to its media anchor (SDP offers, moves)"),
    RoomFamily("voice-reply:", Erase.EVERY_ROOM, "the media anchor's answers to one process: a call's state "
               "with the customer's name"),
    RoomFamily("reply:", Erase.EVERY_ROOM, "the leader's answers to one process's commands (the wall among them)"),
)


def family_of(room: str) -> RoomFamily | None:
    """The family a room name belongs to (the longest prefix that names it), or None."""
    matches = [f for f in FAMILIES if room == f.prefix or (f.prefix.endswith(":") and room.startswith(f.prefix))]
    return max(matches, key=lambda f: len(f.prefix), default=None)


def erased_prefixes(erase: Erase) -> tuple[str, ...]:
    """The prefixes (or whole names) of the families an erasure treats as ``erase``."""
    return tuple(f.prefix for f in FAMILIES if f.erase is erase)


def agent_room(agent_id: str) -> str:
    return f"agent:{agent_id}"


def visitor_room(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"


# -- co-browse (desktop/cobrowse/): its frames never enter the rooms above --

def frames_room(visitor_id: str) -> str:
    """Customer → viewers: rrweb events and the share's state."""
    return f"cobrowse:{visitor_id}"


def inbox_room(visitor_id: str) -> str:
    """Viewers → the customer's page: requests, pointer, snapshot asks, end."""
    return f"cobrowse-in:{visitor_id}"


def documents_room(visitor_id: str) -> str:
    """The documents open on this visitor's screen: one whole-state event, the latest kept."""
    return f"documents:{visitor_id}"


# -- voice (desktop/voice/bus.py) --

def call_room(callback_id: str) -> str:
    return f"voice:{callback_id}"


def voice_reply_room(process_id: str) -> str:
    return f"voice-reply:{process_id}"


# -- the leader (desktop/leader/client.py) --

def reply_room(process_id: str) -> str:
    return f"reply:{process_id}"
