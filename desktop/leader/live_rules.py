"""The published catalogue each process matches with, kept current over the bus.

``LiveRules.current()`` is the compiled :class:`~desktop.rules.Catalogue` of the newest
published version this process has loaded (``Catalogue.empty()`` before any). Publishing
(``announce``) tells every process in the ``rules`` room; each loads that version from the
repository and compiles it once, in a worker thread so sockets keep flowing. A version older
than the one held is ignored, so out-of-order messages never go back in time.
"""

from __future__ import annotations

import asyncio
import logging

from desktop.rooms import RULES_ROOM
from desktop.rules import Catalogue
from signaling.bus.follow import follow

__all__ = ["LiveRules", "RULES_KEEP"]

log = logging.getLogger(__name__)

#: Publications kept for replay: only the newest matters, a few cover a burst.
RULES_KEEP = 5
_RETRY = 1.0  # seconds before subscribing again after the bus failed


class LiveRules:
    def __init__(self, repo, bus) -> None:
        self._repo, self._bus = repo, bus
        self._catalogue = Catalogue.empty()
        self._lock = asyncio.Lock()  # one load at a time, so versions only move forward
        self.loads = 0
        self.failures = 0

    def current(self) -> Catalogue:
        """The catalogue to match with now; call it at each match, don't keep it."""
        return self._catalogue

    async def load(self, version: int | None = None) -> Catalogue:
        """Load and compile ``version`` (the newest when None) unless this process holds it or
        a newer one. A version that fails to compile is logged and counted; the one held stays."""
        async with self._lock:
            if version is not None and version <= self._catalogue.version:
                return self._catalogue
            record = await (self._repo.latest_rule_version() if version is None else self._repo.rule_version(version))
            if record is None or record.version <= self._catalogue.version:
                return self._catalogue
            try:
                catalogue = await asyncio.to_thread(
                    Catalogue.compile, record.actions, version=record.version, settings=record.settings)
            except Exception:
                self.failures += 1
                log.exception("rules version %s does not compile; keeping version %s",
                              record.version, self._catalogue.version)
                return self._catalogue
            self._catalogue = catalogue
            self.loads += 1
            log.info("rules version %s live (%s actions)", catalogue.version, len(catalogue))
            return catalogue

    async def announce(self, version: int) -> bool:
        """Tell every process (this one too) that ``version`` was published, and load it here.

        Returns whether the bus took the message; when it did not (Redis down), the version is
        live here and the others load it when they next subscribe (they load the newest then).
        """
        try:
            await self._bus.publish(RULES_ROOM, {"type": "rules_published", "version": version}, keep=RULES_KEEP)
            announced = True
        except Exception:
            log.warning("could not announce rules version %s on the bus", version, exc_info=True)
            announced = False
        await self.load(version)
        return announced

    async def run(self) -> None:
        """Follow the rules room for good (a task of the app's lifespan)."""
        async def published(event: dict) -> None:
            if event.get("type") == "rules_published" and isinstance(event.get("version"), int):
                await self.load(event["version"])

        await follow(self._bus, RULES_ROOM, resync=self.load, on_event=published, retry=_RETRY)
