"""Automatic call distribution: which agent gets which callback, and when.

``router.Router`` is the pure core (no I/O, no clock): commands in, events
out. ``events`` holds the states and events, ``models`` what goes in and the
views that come out, ``errors`` the exception tree, ``priority`` the order
of waiting callbacks; ``commands`` what any process asks of the leader that runs it.
"""

from .errors import (
    DuplicateCallback, InvalidRequest, InvalidTransition, RoutingError, UnknownAgent,
    UnknownCallback, UnknownOffer, UnknownQueue,
)
from .events import (
    TERMINAL_CALLBACK_STATES, AgentState, AgentStateChanged, CallbackConnected, CallbackEnded,
    CallbackQueued, CallbackScheduled, CallbackState, Channel, OfferEnded, OfferMade,
    OfferOutcome, QueueChanged, RoutingEvent,
)
from .models import AgentView, CallbackRequest, CallbackView, QueueConfig, QueueView
from .router import Router

__all__ = [
    "Router", "QueueConfig", "CallbackRequest", "AgentView", "CallbackView", "QueueView",
    "RoutingError", "UnknownCallback", "UnknownAgent", "UnknownOffer", "UnknownQueue",
    "InvalidTransition", "InvalidRequest", "DuplicateCallback",
    "AgentState", "CallbackState", "OfferOutcome", "Channel", "TERMINAL_CALLBACK_STATES",
    "RoutingEvent", "CallbackQueued", "CallbackScheduled", "OfferMade", "OfferEnded",
    "CallbackConnected", "CallbackEnded", "AgentStateChanged", "QueueChanged",
]
