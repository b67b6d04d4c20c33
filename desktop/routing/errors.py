"""The routing error tree.

Every error the router raises derives from ``RoutingError``; each subclass
also inherits the builtin it resembles, so callers may catch either::

    RoutingError(Exception)
    ├── UnknownCallback(RoutingError, LookupError)   no such callback (or it has ended)
    ├── UnknownAgent(RoutingError, LookupError)      no such agent
    ├── UnknownOffer(RoutingError, LookupError)      no such offer (or it has ended)
    ├── UnknownQueue(RoutingError, LookupError)      no such queue
    ├── InvalidTransition(RoutingError, ValueError)  the move is illegal in the current state
    └── InvalidRequest(RoutingError, ValueError)     bad input (unknown tier, ...)
        └── DuplicateCallback                        a live callback already has this id

A command that raises has changed nothing: commands check before they act.
Messages are written for people, e.g.
``Cannot accept offer "o1": agent "a1" is available``.
"""

from __future__ import annotations

__all__ = [
    "RoutingError", "UnknownCallback", "UnknownAgent", "UnknownOffer", "UnknownQueue",
    "InvalidTransition", "InvalidRequest", "DuplicateCallback",
]


class RoutingError(Exception):
    """Base class of every error raised by the router."""


class UnknownCallback(RoutingError, LookupError):
    """No live callback has this id; ended callbacks are forgotten."""


class UnknownAgent(RoutingError, LookupError):
    """No agent has this id."""


class UnknownOffer(RoutingError, LookupError):
    """No pending offer has this id; ended offers are forgotten."""


class UnknownQueue(RoutingError, LookupError):
    """No queue has this name."""


class InvalidTransition(RoutingError, ValueError):
    """The command is illegal in the current state, which the message names."""


class InvalidRequest(RoutingError, ValueError):
    """The command's arguments are wrong whatever the state."""


class DuplicateCallback(InvalidRequest):
    """``add_callback`` or ``restore_callback`` with the id of a live callback."""
