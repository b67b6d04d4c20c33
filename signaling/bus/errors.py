"""The bus's exceptions, one tree::

    BusError                                       base of everything the bus raises
    ├── SubscriptionLagged                         a subscriber fell behind: resync from a snapshot
    ├── BusClosed(BusError, RuntimeError)          the bus was used after close()
    ├── BusUnavailable(BusError, ConnectionError)  the backend (Redis) can't be reached in time
    └── EventNotSerialisable(BusError, TypeError)  an event that isn't a JSON object
"""

from __future__ import annotations

__all__ = ["BusClosed", "BusError", "BusUnavailable", "EventNotSerialisable", "SubscriptionLagged"]


class BusError(Exception):
    """Base of every error raised by the bus."""


class SubscriptionLagged(BusError):
    """The subscriber fell too far behind (or missed events that left the replay window).

    The subscription is dead: leave its ``async with``, subscribe again and resync from a
    snapshot (``last_seq`` + the application's state).
    """


class BusClosed(BusError, RuntimeError):
    """The bus was used after ``close()``."""


class BusUnavailable(BusError, ConnectionError):
    """The backend could not be reached in time."""


class EventNotSerialisable(BusError, TypeError):
    """The event (or command) is not a JSON object."""
