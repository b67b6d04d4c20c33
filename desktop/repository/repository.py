"""The Customer Contact Repository: the application's only door to the database.

Open it once per process::

    async with Repository.open(settings.effective_database_url) as repo:
        agent = await repo.authenticate("alice", password)

Every method runs in its own transaction and has committed before it returns,
so whatever a caller announces after an ``await repo...`` is already durable.
Records come back as frozen dataclasses (:mod:`.records`); every time is float
seconds since the epoch. Errors are those of :mod:`.errors`.

The methods live with their idea: :mod:`.agents` (accounts, queues),
:mod:`.contacts` (customers, visitors, timeline), :mod:`.callbacks`,
:mod:`.routing_log` (the router's events), :mod:`.stats`, :mod:`.identities`
(verified links, merges, search), :mod:`.callers` (who is phoning), :mod:`.timeline` (pages, outside contacts,
summary, retention), :mod:`.commerce` (products, orders, tiers),
:mod:`.apikeys`, :mod:`.erasure`, :mod:`.staff_sessions` (desk sign-ins), :mod:`.second_factors` (TOTP secrets, recovery codes),
:mod:`.revocations` (revoked visitor tokens, erasure tombstones), :mod:`.analytics`
(the analytics job's versioned results), :mod:`.interactions` (what became of
suggestions), :mod:`.history` (the contact centre's history, summed for the reports),
:mod:`.history_rollups` (those sums kept for closed periods),
:mod:`.admin` (the admin console's changes with their audit), :mod:`.webhooks`
(subscriptions, deliveries; events are queued by :mod:`.outbox` with the change itself), :mod:`.kb` (the knowledge base).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from argon2 import PasswordHasher

from desktop.repository.admin import Administration
from desktop.repository.centre import CentreSettings
from desktop.repository.aftercall import AfterCall
from desktop.repository.agents import Agents
from desktop.repository.analytics import Analytics
from desktop.repository.apikeys import ApiKeys
from desktop.repository.callbacks import Callbacks
from desktop.repository.callers import Callers
from desktop.repository.changes import Changes
from desktop.repository.commerce import Commerce
from desktop.repository.contacts import Contacts
from desktop.repository.engine import Database, QueryTimer, open_database
from desktop.repository.erasure import Erasure
from desktop.repository.history import History
from desktop.repository.history_rollups import HistorySums
from desktop.repository.identities import Identities
from desktop.repository.imports import Imports
from desktop.repository.interactions import Interactions
from desktop.repository.kb import KnowledgeBase
from desktop.repository.migrate import alembic_config, run_migrations
from desktop.repository.revocations import Revocations
from desktop.repository.routing_log import RoutingLog
from desktop.repository.rules import Rules
from desktop.repository.second_factors import SecondFactors
from desktop.repository.staff_sessions import StaffSessions
from desktop.repository.stats import Stats
from desktop.repository.timeline import Timeline
from desktop.repository.webhooks import Webhooks

__all__ = ["Repository"]


class Repository(Agents, Contacts, Callbacks, RoutingLog, Stats, Identities, Timeline, Commerce,
                 ApiKeys, Erasure, Imports, StaffSessions, Revocations, Analytics, Rules, Interactions, History,
                 HistorySums, Administration, Webhooks, Changes, AfterCall, KnowledgeBase, Callers,
                 CentreSettings, SecondFactors):
    """Data access for agents, queues, customers, visitors, callbacks and the timeline."""

    def __init__(
        self, database: Database, *, password_hasher: PasswordHasher | None = None
    ) -> None:
        """Wrap a database made by :func:`desktop.repository.engine.open_database`.

        Prefer :meth:`open`, which also disposes of it.
        """
        super().__init__(database, hasher=password_hasher or PasswordHasher())

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        url: str,
        *,
        upgrade: bool = False,
        password_hasher: PasswordHasher | None = None,
        query_timer: QueryTimer | None = None,
    ) -> AsyncIterator[Repository]:
        """Connect to ``url`` (``sqlite+aiosqlite:///file`` or ``postgresql+asyncpg://...``).

        With ``upgrade=True`` the schema is migrated to head first; otherwise
        the caller must have run ``upgrade_database`` (``otodesk db upgrade``).
        ``password_hasher`` replaces argon2's default parameters (tests pass
        cheap ones). ``query_timer(kind, seconds)`` is told how long each read or write took
        (for /metrics). Connections (and SQLite's threads) are closed when the block exits.
        """
        database = open_database(url, timer=query_timer)
        try:
            if upgrade:
                # Through this very database: an in-memory SQLite has no other.
                await database.write(run_migrations, alembic_config(url))
            yield cls(database, password_hasher=password_hasher)
        finally:
            await database.dispose()

    @property
    def database(self) -> Database:
        """Where the queries run; for health checks and tests."""
        return self._db
