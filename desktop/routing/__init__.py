"""Automatic call distribution: which agent gets which callback, and when.

``router.Router`` is the pure core (no I/O, no clock); ``events`` holds the
states and the events it returns.
"""

from .errors import (
    DuplicateCallback, InvalidRequest, InvalidTransition, RoutingError, UnknownAgent,
    UnknownCallback, UnknownOffer, UnknownQueue,
)
from .events import *  # noqa: F403 - the events are part of this package's surface
from .events import __all__ as _events_all
from .models import AgentView, CallbackRequest, CallbackView, QueueConfig, QueueView
from .router import Router

__all__ = [
    "Router", "QueueConfig", "CallbackRequest", "AgentView", "CallbackView", "QueueView",
    "RoutingError", "UnknownCallback", "UnknownAgent", "UnknownOffer", "UnknownQueue",
    "InvalidTransition", "InvalidRequest", "DuplicateCallback",
    *_events_all,
]
