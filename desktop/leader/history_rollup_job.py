"""The history rollups' schedule: on the process that leads the router, every
``OTODESK_HISTORY_ROLLUP_INTERVAL`` seconds, sum the periods closed since the last pass
(``desktop.repository.history_rollups``; a first pass, or one after a change of the
queues' targets or the report settings, rebuilds them a week per transaction).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from desktop.repository.history_rollups import RollupSettings
from desktop.settings import Settings

__all__ = ["rollup_settings", "roll_up", "HistoryRollupSchedule"]

log = logging.getLogger(__name__)


async def rollup_settings(repo: Any, settings: Settings) -> RollupSettings:
    queues = await repo.list_queues()
    return RollupSettings(targets={queue.name: queue.service_level_target for queue in queues},
                          short_abandon=settings.short_abandon, schedule_grace=settings.schedule_grace,
                          time_zone=settings.time_zone)


async def roll_up(repo: Any, settings: Settings, *, now: float | None = None) -> list[dict[str, float]]:
    """One pass: every closed period not yet summed; returns the marks each transaction reached."""
    return await repo.roll_up_history(await rollup_settings(repo, settings), now=time.time() if now is None else now)


class HistoryRollupSchedule:
    def __init__(self, repo: Any, settings: Settings, is_leader: Callable[[], bool]) -> None:
        self.repo, self.settings, self.is_leader = repo, settings, is_leader

    async def run(self) -> None:
        """Forever, until cancelled; returns at once when no interval is set."""
        interval = self.settings.history_rollup_interval
        if interval <= 0:
            return
        while True:
            rolled = False
            try:
                if self.is_leader():
                    await roll_up(self.repo, self.settings)
                    rolled = True
            except Exception:  # noqa: BLE001 - a periodic job must survive a bad pass
                log.exception("history rollup pass failed")
            # Not leading (yet: at start-up the lease comes a moment later): look again soon.
            await asyncio.sleep(interval if rolled else min(interval, 5.0))
