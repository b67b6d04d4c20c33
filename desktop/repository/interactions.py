"""The interaction history of suggestions (table ``rule_interactions``).

One row per contact, action, version and outcome (``shown``, ``presented``,
``accepted``, ``declined``): a desk that renders a card twice, or a retried
message, records nothing more. Rows are keyed by the customer's group head at
the time; readers take the whole group, so a merge later keeps the history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from desktop.repository import models
from desktop.repository._store import ORDERS, Store, upsert
from desktop.repository.analytics import CustomerScoreRecord, read_customer_score
from desktop.repository.commerce import order_record
from desktop.repository.errors import NotFound
from desktop.repository.outbox import emit
from desktop.repository.identities import canonical_id, group_ids
from desktop.repository.records import OrderRecord

__all__ = ["Interactions", "InteractionRecord", "OUTCOMES"]

INTERACTIONS: Table = models.RuleInteraction.__table__  # type: ignore[assignment]
OUTCOMES = ("shown", "presented", "accepted", "declined")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class InteractionRecord:
    id: int
    at: float
    customer_id: str
    callback_id: str
    agent_id: str | None
    action_id: str
    version: int
    outcome: str
    reason: str | None
    queue: str
    tier: str
    product: str | None


class Interactions(Store):
    async def record_interaction(self, *, customer_id: str, callback_id: str, agent_id: str | None,
                                 action_id: str, version: int, outcome: str, at: float,
                                 queue: str = "", tier: str = "standard", product: str | None = None,
                                 reason: str | None = None) -> bool:
        """Add one outcome; False when this contact already has it for this action and version.

        Raises :class:`ValueError` for an outcome not in :data:`OUTCOMES`.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
        values = dict(customer_id=customer_id, callback_id=callback_id, agent_id=agent_id,
                      action_id=action_id, version=version, outcome=outcome, at=at, queue=queue,
                      tier=tier, product=product, reason=reason)

        def insert(conn: Connection) -> bool:
            statement = upsert(conn, INTERACTIONS).values(**values).on_conflict_do_nothing(
                index_elements=["callback_id", "action_id", "version", "outcome"])
            added = conn.execute(statement).rowcount == 1
            if added and outcome == "accepted":
                emit(conn, "suggestion.accepted", {
                    "callback_id": callback_id, "customer_id": customer_id, "agent_id": agent_id,
                    "action_id": action_id, "version": version, "product": product},
                    at=at, customer_id=customer_id, callback_id=callback_id)
            return added

        return await self._db.write(insert)

    async def interaction_history(self, customer_id: str, *, since: float) -> list[InteractionRecord]:
        """The customer's (group's) interactions at or after ``since``, oldest first."""
        return await self._db.read(_history, customer_id, since)

    async def suggestion_inputs(self, customer_id: str, *, since: float, orders: int = 200
                                ) -> tuple[list[OrderRecord], CustomerScoreRecord | None, list[InteractionRecord]]:
        """What one contact's suggestions read about the customer, in one transaction (one
        round trip less each on the offer's path): their newest ``orders``, their latest
        analytics scores and their interactions since ``since``. Raises :class:`NotFound`."""
        def read(conn: Connection):
            head = canonical_id(conn, customer_id)
            if head is None:
                raise NotFound(f"No customer with id {customer_id!r}")
            ids = group_ids(conn, head)  # once for the three reads, not once each
            found = conn.execute(select(ORDERS).where(ORDERS.c.customer_id.in_(ids))
                                 .order_by(ORDERS.c.placed_at.desc(), ORDERS.c.id).limit(orders))
            history = conn.execute(select(INTERACTIONS).where(INTERACTIONS.c.customer_id.in_(ids),
                                                              INTERACTIONS.c.at >= since)
                                   .order_by(INTERACTIONS.c.at, INTERACTIONS.c.id))
            return ([order_record(row) for row in found], read_customer_score(conn, head),
                    [InteractionRecord(**row._mapping) for row in history])

        return await self._db.read(read)

    async def interactions_between(self, start: float, end: float) -> list[InteractionRecord]:
        """Every interaction with ``start <= at < end``, oldest first."""
        statement = (select(INTERACTIONS).where(INTERACTIONS.c.at >= start, INTERACTIONS.c.at < end)
                     .order_by(INTERACTIONS.c.at, INTERACTIONS.c.id))
        return await self._db.read(lambda conn: [InteractionRecord(**r._mapping) for r in conn.execute(statement)])

    async def orders_of_customers(self, customer_ids: Iterable[str], *, start: float,
                                  end: float) -> list[tuple[str, OrderRecord]]:
        """(group head, order) for every order of these customers' groups placed in [start, end)."""
        return await self._db.read(_orders_of, sorted(set(customer_ids)), start, end)


def _history(conn: Connection, customer_id: str, since: float) -> list[InteractionRecord]:
    head = canonical_id(conn, customer_id)
    ids = group_ids(conn, head) if head is not None else [customer_id]
    statement = (select(INTERACTIONS).where(INTERACTIONS.c.customer_id.in_(ids), INTERACTIONS.c.at >= since)
                 .order_by(INTERACTIONS.c.at, INTERACTIONS.c.id))
    return [InteractionRecord(**r._mapping) for r in conn.execute(statement)]


def _orders_of(conn: Connection, customer_ids: list[str], start: float,
               end: float) -> list[tuple[str, OrderRecord]]:
    head_of: dict[str, str] = {}
    for customer_id in customer_ids:
        head = canonical_id(conn, customer_id)
        if head is None:
            continue  # erased since
        for member in group_ids(conn, head):
            head_of[member] = head
        head_of.setdefault(customer_id, head)
    if not head_of:
        return []
    rows = conn.execute(select(ORDERS).where(ORDERS.c.customer_id.in_(list(head_of)),
                                             ORDERS.c.placed_at >= start, ORDERS.c.placed_at < end)
                        .order_by(ORDERS.c.placed_at, ORDERS.c.id))
    # The head the interaction was keyed by: a customer merged into another reads as the new head.
    return [(head_of[row.customer_id], order_record(row)) for row in rows]
