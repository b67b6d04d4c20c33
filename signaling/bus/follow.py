"""Following a room for good: the loop every "load it again when told" follower needs.

``resync()`` runs after each subscription is made, so a change announced while not
subscribed (at start, after a lag, after Redis came back) is read all the same; each event
then goes to ``on_event``. A lag subscribes again at once; any other failure after ``retry``
seconds. Only cancellation ends it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from signaling.bus.base import Bus
from signaling.bus.errors import SubscriptionLagged

__all__ = ["follow"]

log = logging.getLogger(__name__)


async def follow(bus: Bus, room: str, *, resync: Callable[[], Awaitable[Any]],
                 on_event: Callable[[dict[str, Any]], Awaitable[Any]], retry: float = 1.0) -> None:
    while True:
        try:
            async with bus.subscribe(room) as subscription:
                await resync()  # subscribed first: nothing announced in between is missed
                async for _seq, event in subscription:
                    if isinstance(event, dict):
                        await on_event(event)
        except SubscriptionLagged:
            continue
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("following the room %s failed; again in %ss", room, retry, exc_info=True)
            await asyncio.sleep(retry)
