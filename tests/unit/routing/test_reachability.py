"""Examples of the leader's ledger of sockets and processes (``desktop.routing.reachability``), clock passed in."""

from __future__ import annotations

from types import SimpleNamespace

from desktop.routing.reachability import (AWAY_WHILE_GONE, PROCESS_HEARTBEAT, PROCESS_TIMEOUT, Reach, Reachability,
                                  paused_while_gone)
from desktop.routing import AgentState


def ledger(now: float = 0.0) -> Reachability:
    return Reachability(reconnect_grace=10.0, own_process="leader", now=now)


def test_a_customer_returns_with_their_first_socket_and_leaves_with_their_last():
    reach = ledger()
    assert reach.customer_socket("v1", "p1:1", True) is Reach.RETURNED
    assert reach.customer_socket("v1", "p2:7", True) is None  # a second tab
    assert reach.customer_socket("v1", "p1:1", True) is None  # re-announced after a failover: counts once
    assert reach.customer_socket("v1", "p1:1", False) is None
    assert reach.has_customer_socket("v1")
    assert reach.customer_socket("v1", "p2:7", False) is Reach.LEFT
    assert not reach.has_customer_socket("v1")
    assert reach.visitor_sockets == {}  # nothing kept for a customer with no socket


def test_closing_a_socket_never_announced_changes_nothing():
    reach = ledger()
    assert reach.customer_socket("v1", "p1:1", False) is None
    assert not reach.has_customer_socket("v1")
    assert not reach.has_customer_socket(None)


def test_an_agent_is_logged_out_when_the_grace_runs_out_with_no_desk_open():
    reach = ledger()
    reach.agent_socket_opened("a1", "p1:1")
    reach.agent_socket_closed("a1", "p1:1", now=100.0)
    assert not reach.has_agent_desk("a1")
    assert reach.next_deadline() == 110.0
    assert reach.due_logouts(109.9) == []
    assert reach.due_logouts(110.0) == ["a1"]
    assert reach.due_logouts(111.0) == []  # forgotten once due
    assert reach.has_agent_desk("a1")


def test_a_reload_within_the_grace_keeps_the_agent_logged_in():
    reach = ledger()
    reach.agent_socket_opened("a1", "p1:1")
    reach.agent_socket_opened("a1", "p1:2")
    reach.agent_socket_closed("a1", "p1:1", now=5.0)
    assert reach.has_agent_desk("a1")  # another desk is still open
    reach.agent_socket_closed("a1", "p1:2", now=6.0)
    reach.agent_socket_opened("a1", "p1:3")
    assert reach.has_agent_desk("a1")
    assert reach.due_logouts(100.0) == []


def test_signing_out_cancels_the_grace_and_a_failover_expects_the_agent_back():
    reach = ledger()
    reach.agent_socket_opened("a1", "p1:1")
    reach.agent_socket_closed("a1", "p1:1", now=0.0)
    reach.forget_agent("a1")
    assert reach.due_logouts(100.0) == []
    reach.expect_agent("a2", now=50.0)  # logged in before a failover
    assert not reach.has_agent_desk("a2")
    assert reach.due_logouts(60.0) == ["a2"]


def test_a_silent_process_is_gone_and_its_sockets_are_named():
    reach = ledger()
    reach.customer_socket("v1", "p1:1", True)
    reach.customer_socket("v2", "p2:1", True)
    reach.agent_socket_opened("a1", "p1:2")
    for now in (0.0, 2.0, 4.0):
        reach.process_alive("p2", now)
        reach.process_alive("leader", now)
        assert reach.silent_processes(now, inbox_lag=0.0) == []
    reach.process_alive("p1", 0.0)
    assert reach.next_deadline() == PROCESS_TIMEOUT
    now = 4.0
    while now < PROCESS_TIMEOUT + 2.0:  # the loop keeps turning, p1 says nothing
        now += PROCESS_HEARTBEAT / 2
        reach.process_alive("p2", now)
        gone = reach.silent_processes(now, inbox_lag=0.0)
        if gone:
            break
    assert gone == ["p1"]
    assert now > PROCESS_TIMEOUT
    assert reach.sockets_on("p1") == ([("v1", "p1:1")], [("a1", "p1:2")])
    assert reach.silent_processes(now + 0.5, inbox_lag=0.0) == []  # forgotten once judged


def test_the_leader_itself_is_never_judged_gone():
    reach = ledger()
    reach.process_alive("leader", 0.0)
    assert reach.silent_processes(PROCESS_HEARTBEAT, inbox_lag=0.0) == []
    assert reach.silent_processes(2 * PROCESS_HEARTBEAT, inbox_lag=0.0) == []
    assert reach.silent_processes(3 * PROCESS_HEARTBEAT + 1, inbox_lag=0.0) == []


def test_no_process_is_judged_while_the_inbox_lags_or_the_loop_stalled():
    reach = ledger()
    reach.process_alive("p1", 0.0)
    late = PROCESS_TIMEOUT + 1.0
    reach.last_due = late - 1.0
    assert reach.silent_processes(late, inbox_lag=PROCESS_HEARTBEAT + 0.1) == []  # a backlog
    assert reach.silent_processes(late + 2 * PROCESS_HEARTBEAT, inbox_lag=0.0) == []  # the loop stalled
    assert reach.silent_processes(late + 2 * PROCESS_HEARTBEAT + 1.0, inbox_lag=0.0) == ["p1"]


def test_an_agent_is_paused_only_when_away_because_the_desk_closed():
    assert paused_while_gone(SimpleNamespace(state=AgentState.AWAY, reason=AWAY_WHILE_GONE))
    assert not paused_while_gone(SimpleNamespace(state=AgentState.AWAY, reason="lunch"))
    assert not paused_while_gone(SimpleNamespace(state=AgentState.AVAILABLE, reason=AWAY_WHILE_GONE))


def test_no_deadline_when_nothing_is_pending():
    assert ledger().next_deadline() is None


# -- inbound callers' lines ---------------------------------------------------------------------

def test_the_lines_of_a_process_gone_silent_are_lost_with_it():
    reach = ledger()
    reach.process_alive("p1", 0.0)
    reach.lines_listed("p1", ["cb1", "cb2"])
    reach.process_alive("p2", 0.0)
    reach.lines_listed("p2", ["cb3"])
    reach.expect_line("cb1", 0.0)  # the callback reached the router after the heartbeat: known already
    assert reach.expected_lines == {}
    reach.process_alive("p2", 4.0)
    assert reach.silent_processes(4.0, inbox_lag=0.0) == []  # the leader's loop passes every few seconds
    gone = reach.silent_processes(PROCESS_TIMEOUT + 0.5, inbox_lag=0.0)
    assert gone == ["p1"]
    assert sorted(reach.lost_lines(PROCESS_TIMEOUT + 0.5, gone)) == ["cb1", "cb2"]
    assert reach.lost_lines(PROCESS_TIMEOUT + 0.5, gone) == []  # once
    assert reach.line_of == {"cb3": "p2"}


def test_a_line_expected_but_never_listed_is_lost_at_its_deadline():
    reach = ledger()
    reach.expect_line("cb1", 10.0)  # a new leader rebuilt it; its process may have died with the old one
    reach.expect_line("cb2", 10.0)
    assert reach.next_deadline() == 10.0 + PROCESS_TIMEOUT
    reach.lines_listed("p1", ["cb2"])  # a live process lists its line within a heartbeat
    assert reach.lost_lines(10.0 + PROCESS_TIMEOUT - 0.1) == []
    assert reach.lost_lines(10.0 + PROCESS_TIMEOUT) == ["cb1"]
    assert reach.line_of == {"cb2": "p1"} and reach.expected_lines == {}


def test_a_line_no_longer_listed_has_ended_there():
    reach = ledger()
    reach.lines_listed("p1", ["cb1", "cb2"])
    reach.lines_listed("p1", ["cb2"])  # cb1 ended there (its end told the router itself)
    assert reach.line_of == {"cb2": "p1"}
    reach.process_alive("p1", 4.0)  # a heartbeat alone changes no line
    assert reach.line_of == {"cb2": "p1"}
    reach.forget_line("cb2")
    assert reach.lost_lines(100.0, ["p1"]) == []
