"""A routing leader driven by hand: no election, no inbox loop. A test feeds it commands
(``_apply`` / ``_apply_safely``) and due times (``_due``) and reads its state, so what routing
decides is checked without timing."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Callable

from desktop.leader.service import RoutingService, _Leader
from desktop.settings import Settings
from signaling.bus import Bus

T0 = 1_000_000.0


async def leader_by_hand(repo, bus: Bus, clock: Callable[[], float] = lambda: T0,
                         process_id: str = "p1") -> _Leader:
    """The leader of epoch 1, its router rebuilt from ``repo``, on ``clock``."""
    settings = Settings(secret_key="test", process_id=process_id)
    service = RoutingService(repo=repo, bus=bus, settings=settings, clock=clock)
    leader = _Leader(service, types.SimpleNamespace(epoch=1, lost=asyncio.Event()))
    await leader._rebuild()
    return leader
