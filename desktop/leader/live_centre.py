"""The console's settings each process works with, kept current over the bus.

``LiveCentre.current()`` is the :class:`~desktop.centre.config.CentreConfig` last read from the
repository (the environment's values until then and for any key never saved). A change
(``announce``, after its transaction committed) is told to every process in the ``centre``
room; each reads the settings again, so the origin checks, the widget's welcome and the
router's urgent words all follow within a bus round trip, with no restart. The message
carries no value: a reader always takes what is committed, so messages out of order or
lost in a burst can't leave a process on an older value than the newest one it read.
"""

from __future__ import annotations

import asyncio
import logging

from desktop.centre.config import CentreConfig
from desktop.rooms import CENTRE_ROOM
from desktop.settings import Settings
from signaling.bus.follow import follow

__all__ = ["LiveCentre"]

log = logging.getLogger(__name__)

_KEEP = 5      # publications kept for replay: any one says "read again"
_RETRY = 1.0   # seconds before subscribing again after the bus failed


class LiveCentre:
    def __init__(self, repo, bus, settings: Settings) -> None:
        self._repo, self._bus = repo, bus
        self._env = dict(env_urgent_words=settings.urgent_words, env_origins=settings.allowed_origins)
        self._config = CentreConfig.build({}, **self._env)
        self._lock = asyncio.Lock()  # one read at a time: the last read started is the last applied
        self.loads = 0

    def current(self) -> CentreConfig:
        """The settings to use now; call it at each use, don't keep it."""
        return self._config

    def defaults(self) -> CentreConfig:
        """The settings of a centre that never saved any: the environment's (for the audit's "before")."""
        return CentreConfig.build({}, **self._env)

    def origins(self) -> tuple[str, ...]:
        return self._config.origins

    def is_urgent(self, text: str) -> bool:
        """The router's urgency test (desktop/routing/router.py ``is_urgent``)."""
        return self._config.is_urgent(text)

    async def welcome(self, session) -> dict:
        """The customer socket's part of ``welcome`` (a feature of the customer's role): the
        widget's look, so it costs the page no request of its own."""
        return {"look": self._config.widget_json()}

    async def load(self) -> CentreConfig:
        async with self._lock:
            self._config = CentreConfig.build(await self._repo.centre_settings(), **self._env)
            self.loads += 1
            return self._config

    async def announce(self) -> bool:
        """Read the settings here, then tell every process to. False when the bus did not take
        the message (Redis down): the change holds here, the others read it when they next
        subscribe (they load on every subscription)."""
        await self.load()
        try:
            await self._bus.publish(CENTRE_ROOM, {"type": "centre_changed"}, keep=_KEEP)
        except Exception:
            log.warning("could not announce a settings change on the bus", exc_info=True)
            return False
        return True

    async def run(self) -> None:
        """Follow the room for good (a task of the app's lifespan)."""
        async def changed(event: dict) -> None:
            if event.get("type") == "centre_changed":
                await self.load()

        await follow(self._bus, CENTRE_ROOM, resync=self.load, on_event=changed, retry=_RETRY)
