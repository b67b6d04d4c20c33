"""Who the leader can reach: customers' and agents' sockets, and the processes holding them.

Every process announces its sockets to the leader (``presences``, a few hundred sockets a
command; re-announced after a failover) and says it is alive every
``PROCESS_HEARTBEAT`` seconds (``process_alive``). From those, :class:`Reachability`
decides, without touching the router, a socket or the clock (``now`` is passed in):

- **A customer is reachable** while at least one of their sockets is open. Their
  first socket coming back is :attr:`Reach.RETURNED`; their last one closing is
  :attr:`Reach.LEFT`; the leader tells the router either.
- **An agent is logged out** ``reconnect_grace`` seconds after their last desk
  socket closed, unless one comes back first (a tab reload does; a closed tab does
  not). Meanwhile an available agent is put away with the reason
  ``AWAY_WHILE_GONE``, so no offer goes to a desk nobody sees, and made available
  again when a desk is back (:func:`paused_while_gone`).
- **A process is gone** when it has been silent ``PROCESS_TIMEOUT`` seconds: a
  process killed with its sockets never says goodbye for them, so its silence has
  to. Silence is judged only while the inbox flows: a backlog (or a stalled loop)
  delays everyone's heartbeats, and a live process must not be forgotten.
- **An inbound caller's line** lives on the process that answered it, which lists
  it in each heartbeat. It is lost with that process (it can't move: the SIP
  dialog and its media died there), or when no heartbeat has listed it within
  ``PROCESS_TIMEOUT`` of the leader expecting it (:meth:`Reachability.expect_line`:
  a new inbound call, or one rebuilt by a new leader whose process may have died
  with the old one). The leader ends what a lost line leaves (:meth:`lost_lines`).

The state lasts one term of leadership; a new leader starts empty and learns it again.
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Iterable

from desktop.routing.events import AgentState

__all__ = ["Reachability", "Reach", "paused_while_gone", "PROCESS_HEARTBEAT", "PROCESS_TIMEOUT",
           "AWAY_WHILE_GONE"]

PROCESS_HEARTBEAT = 2.0  # seconds between a process's "alive" to the leader
PROCESS_TIMEOUT = 3 * PROCESS_HEARTBEAT  # silent this long: its sockets are gone with it
AWAY_WHILE_GONE = "desk closed"  # an available agent's last desk socket went: no offers until one is back


class Reach(enum.Enum):
    """How a customer's socket announcement changed whether they can be reached."""

    RETURNED = "returned"  # their first socket opened
    LEFT = "left"          # their last socket closed


def paused_while_gone(agent) -> bool:
    """True when the router's ``agent`` is away only because their desk was closed."""
    return agent.state == AgentState.AWAY and agent.reason == AWAY_WHILE_GONE


class Reachability:
    """The leader's ledger of sockets (keys ``"<process>:<n>"``) and process heartbeats.

    ``reconnect_grace`` is in seconds; ``own_process`` (the leader's) is never judged
    gone; ``now`` is the time the term began.
    """

    def __init__(self, *, reconnect_grace: float, own_process: str, now: float):
        self.reconnect_grace = reconnect_grace
        self.own_process = own_process
        # Sets, so a socket announced twice (re-announced after a failover) still counts once.
        self.agent_sockets: collections.defaultdict[str, set[str]] = collections.defaultdict(set)
        self.visitor_sockets: collections.defaultdict[str, set[str]] = collections.defaultdict(set)
        self.logout_at: dict[str, float] = {}  # agent id -> when to log them out
        self.process_seen: dict[str, float] = {}  # process -> its last word
        self.line_of: dict[str, str] = {}          # inbound callback id -> the process carrying its line
        self.expected_lines: dict[str, float] = {}  # inbound callback id -> when it is lost unless listed
        self.last_due = now

    # -- announcements --------------------------------------------------------------------

    def customer_socket(self, visitor_id: str, socket: str, present: bool) -> Reach | None:
        """Note a customer's socket opening or closing; say if that changed their reach."""
        sockets = self.visitor_sockets[visitor_id]
        before = len(sockets)
        if present:
            sockets.add(socket)
        else:
            sockets.discard(socket)
        if not sockets:
            del self.visitor_sockets[visitor_id]
        if present and before == 0:
            return Reach.RETURNED
        if not present and before and not sockets:
            return Reach.LEFT
        return None

    def has_customer_socket(self, visitor_id: str | None) -> bool:
        return bool(self.visitor_sockets.get(visitor_id))

    def agent_socket_opened(self, agent_id: str, socket: str) -> None:
        """A desk is open: the agent is not logged out (a reload came back within the grace)."""
        self.agent_sockets[agent_id].add(socket)
        self.logout_at.pop(agent_id, None)

    def has_agent_desk(self, agent_id: str) -> bool:
        """False while the agent waits out the reconnect grace with no desk socket open."""
        return agent_id not in self.logout_at

    def agent_socket_closed(self, agent_id: str, socket: str, now: float) -> None:
        """After the agent's last desk closes, they are logged out when the grace runs out."""
        sockets = self.agent_sockets[agent_id]
        sockets.discard(socket)
        if not sockets:
            self.logout_at[agent_id] = now + self.reconnect_grace

    def forget_agent(self, agent_id: str) -> None:
        """The agent signed out: no grace to wait out (their desks close on their own)."""
        self.logout_at.pop(agent_id, None)

    def expect_agent(self, agent_id: str, now: float) -> None:
        """An agent was logged in before a failover: their socket re-announces itself within
        the grace, if it still exists."""
        self.logout_at[agent_id] = now + self.reconnect_grace

    def process_alive(self, process: str, now: float) -> None:
        self.process_seen[process] = now

    def lines_listed(self, process: str, lines: Iterable[str]) -> None:
        """The inbound calls ``process`` carries now, as its heartbeat lists them."""
        listed = set(lines)
        for callback_id in [cid for cid, owner in self.line_of.items() if owner == process and cid not in listed]:
            del self.line_of[callback_id]  # ended there (its end reached the router by its own way)
        for callback_id in listed:
            self.line_of[callback_id] = process
            self.expected_lines.pop(callback_id, None)

    def expect_line(self, callback_id: str, now: float) -> None:
        """An inbound call the router now holds: lost unless a heartbeat lists it within
        ``PROCESS_TIMEOUT`` seconds (a live process lists its lines every ``PROCESS_HEARTBEAT``)."""
        if callback_id not in self.line_of:
            self.expected_lines[callback_id] = now + PROCESS_TIMEOUT

    def forget_line(self, callback_id: str) -> None:
        """The inbound call ended: nothing to expect or lose any more."""
        self.line_of.pop(callback_id, None)
        self.expected_lines.pop(callback_id, None)

    # -- deadlines ------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """The earliest time :meth:`silent_processes` or :meth:`due_logouts` may have work."""
        candidates = []
        if self.logout_at:
            candidates.append(min(self.logout_at.values()))
        if self.expected_lines:
            candidates.append(min(self.expected_lines.values()))
        if self.process_seen:
            candidates.append(min(self.process_seen.values()) + PROCESS_TIMEOUT)
        return min(candidates, default=None)

    def silent_processes(self, now: float, *, inbox_lag: float) -> list[str]:
        """Processes judged gone (and forgotten here); the caller forgets their sockets.

        ``inbox_lag`` is the seconds between sending and applying the latest command.
        Call once per pass of the leader's loop: the gap between calls tells a stalled loop.
        """
        stalled = now - self.last_due > 1.5 * PROCESS_HEARTBEAT
        self.last_due = now
        if inbox_lag > PROCESS_HEARTBEAT or stalled:
            return []
        gone = [process for process, seen in self.process_seen.items()
                if seen < now - PROCESS_TIMEOUT and process != self.own_process]
        for process in gone:
            del self.process_seen[process]
        return gone

    def sockets_on(self, process: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(visitor id, socket) and (agent id, socket) pairs of the sockets ``process`` held."""
        prefix = f"{process}:"
        return ([(visitor_id, key) for visitor_id, sockets in self.visitor_sockets.items()
                 for key in sockets if key.startswith(prefix)],
                [(agent_id, key) for agent_id, sockets in self.agent_sockets.items()
                 for key in sockets if key.startswith(prefix)])

    def lost_lines(self, now: float, gone: Iterable[str] = ()) -> list[str]:
        """Inbound calls whose line is lost (forgotten here): those carried by the ``gone``
        processes (:meth:`silent_processes`) and those expected but not listed in time."""
        gone = set(gone)
        lost = [callback_id for callback_id, process in self.line_of.items() if process in gone]
        lost += [callback_id for callback_id, at in self.expected_lines.items() if at <= now]
        for callback_id in lost:
            self.forget_line(callback_id)
        return lost

    def due_logouts(self, now: float) -> list[str]:
        """Agents whose grace ran out, forgotten here; the caller logs out those idle."""
        due = [agent_id for agent_id, at in self.logout_at.items() if at <= now]
        for agent_id in due:
            del self.logout_at[agent_id]
        return due
