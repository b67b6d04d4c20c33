"""What every part of the repository shares: the database, the tables, the hasher.

Each public method of the repository is a thin ``async`` wrapper handing one
synchronous query function to ``self._db.write`` or ``self._db.read``; the
function runs in one transaction (see :mod:`.engine`). Query functions are
module-level, take the ``Connection`` first and never await.
"""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from desktop.repository import models
from desktop.repository.engine import Database

AGENTS: Table = models.Agent.__table__  # type: ignore[assignment]
QUEUES: Table = models.Queue.__table__  # type: ignore[assignment]
CUSTOMERS: Table = models.Customer.__table__  # type: ignore[assignment]
VISITORS: Table = models.Visitor.__table__  # type: ignore[assignment]
CALLBACKS: Table = models.Callback.__table__  # type: ignore[assignment]
OFFERS: Table = models.Offer.__table__  # type: ignore[assignment]
AGENT_STATES: Table = models.AgentStateLog.__table__  # type: ignore[assignment]
CONTACT_EVENTS: Table = models.ContactEvent.__table__  # type: ignore[assignment]
IDENTITIES: Table = models.Identity.__table__  # type: ignore[assignment]
MERGES: Table = models.CustomerMerge.__table__  # type: ignore[assignment]
PRODUCTS: Table = models.Product.__table__  # type: ignore[assignment]
ORDERS: Table = models.Order.__table__  # type: ignore[assignment]
API_KEYS: Table = models.ApiKey.__table__  # type: ignore[assignment]
ERASURES: Table = models.Erasure.__table__  # type: ignore[assignment]
STAFF_SESSIONS: Table = models.StaffSession.__table__  # type: ignore[assignment]
REVOKED_VISITORS: Table = models.RevokedVisitor.__table__  # type: ignore[assignment]
ERASED_USERS: Table = models.ErasedUser.__table__  # type: ignore[assignment]
ERASED_CUSTOMERS: Table = models.ErasedCustomer.__table__  # type: ignore[assignment]
ADMIN_AUDIT: Table = models.AdminAudit.__table__  # type: ignore[assignment]
WEBHOOK_SUBSCRIPTIONS: Table = models.WebhookSubscription.__table__  # type: ignore[assignment]
WEBHOOK_EVENTS: Table = models.WebhookEvent.__table__  # type: ignore[assignment]
WEBHOOK_DELIVERIES: Table = models.WebhookDelivery.__table__  # type: ignore[assignment]
WEBHOOK_ATTEMPTS: Table = models.WebhookAttempt.__table__  # type: ignore[assignment]
CENTRE_SETTINGS: Table = models.CentreSetting.__table__  # type: ignore[assignment]
SETUP_LINKS: Table = models.SetupLink.__table__  # type: ignore[assignment]
STAFF_TOTP: Table = models.StaffTotp.__table__  # type: ignore[assignment]
STAFF_RECOVERY_CODES: Table = models.StaffRecoveryCode.__table__  # type: ignore[assignment]


class Store:
    def __init__(self, database: Database, *, hasher: PasswordHasher) -> None:
        self._db = database
        self._hasher = hasher
        self._dummy_hash: str | None = None  # see Agents.authenticate


def upsert(conn: Connection, table: Table) -> Any:
    """An INSERT for ``table`` that understands ``on_conflict_do_*`` on this backend."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def first(conn: Connection, statement: Any, params: dict[str, Any] | None = None) -> Any:
    """The first row ``statement`` gives (with ``params`` for its bind parameters), or ``None``."""
    return conn.execute(statement, params).first()
