"""The Customer Contact Repository: schema, migrations and data access.

Everything a caller needs is re-exported here::

    from desktop.repository import Repository, upgrade_database, NotFound
"""

from desktop.repository.errors import (
    Conflict,
    DuplicateCallback,
    DuplicateUser,
    NotFound,
    NumberWaiting,
    RepositoryError,
)
from desktop.repository.migrate import upgrade_database, upgrade_database_async
from desktop.repository.records import (
    ROLES,
    TIERS,
    AgentRecord,
    CallbackRecord,
    ContactEventRecord,
    CustomerRecord,
    OfferRecord,
    QueueDayStats,
    QueueRecord,
    VisitorRecord,
)
from desktop.repository.repository import Repository

__all__ = [
    "Repository", "upgrade_database", "upgrade_database_async",
    "RepositoryError", "NotFound", "Conflict", "DuplicateUser", "DuplicateCallback", "NumberWaiting",
    "ROLES", "TIERS", "AgentRecord", "QueueRecord", "CustomerRecord", "VisitorRecord",
    "CallbackRecord", "OfferRecord", "ContactEventRecord", "QueueDayStats",
]
