"""The schema, as SQLAlchemy 2 declarative models, portable to SQLite and PostgreSQL.

Conventions that keep both engines and the pure router in step:

- every time is a ``*_at`` (or ``*_since``) column of float seconds since the
  epoch, UTC, exactly what the router is fed as ``now``;
- ids are strings (uuid hex, or the ids the router and the hub mint), except
  ``contact_events.id`` which is an autoincrement integer giving the timeline
  a total order;
- lists and free-form maps are JSON (JSONB on PostgreSQL);
- constraint and index names come from :data:`NAMING_CONVENTION`, so the
  hand-written migrations can name them.

The repository queries these tables with SQLAlchemy Core (``Model.__table__``)
and returns records from :mod:`desktop.repository.records`; the classes here
are the schema, not objects handed around. Any change here needs a new
migration in ``migrations/versions``; a test compares the two.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "NAMING_CONVENTION", "Base", "Agent", "Queue", "Customer", "Visitor", "Callback",
    "Offer", "ContactEvent",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON everywhere, JSONB on PostgreSQL (indexable, compact).
Json = JSON().with_variant(postgresql.JSONB(), "postgresql")
#: SQLite only autoincrements an ``INTEGER PRIMARY KEY``.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        str: String(),
        float: Double(),
        dict[str, Any]: Json,
        list[str]: Json,
    }


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(unique=True)
    display_name: Mapped[str]
    password_hash: Mapped[str]
    #: One of ``records.ROLES``.
    role: Mapped[str]
    skills: Mapped[list[str]]
    #: An ``AgentState`` value.
    state: Mapped[str] = mapped_column(server_default="offline")
    state_reason: Mapped[str] = mapped_column(server_default="")
    state_since: Mapped[float]
    created_at: Mapped[float]


class Queue(Base):
    __tablename__ = "queues"

    name: Mapped[str] = mapped_column(primary_key=True)
    title: Mapped[str]
    skills: Mapped[list[str]]
    #: Seconds.
    service_level_target: Mapped[float]
    sort_order: Mapped[int] = mapped_column(server_default="0")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str | None]
    email: Mapped[str | None]
    #: E.164.
    phone: Mapped[str | None]
    #: The site's own id for a logged-in customer (vouched for by HMAC).
    external_id: Mapped[str | None] = mapped_column(unique=True)
    #: One of ``records.TIERS``.
    tier: Mapped[str] = mapped_column(server_default="standard")
    created_at: Mapped[float]
    updated_at: Mapped[float]


class Visitor(Base):
    __tablename__ = "visitors"

    #: The id inside the signed visitor token.
    id: Mapped[str] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[float]
    last_seen_at: Mapped[float]
    context: Mapped[dict[str, Any]]
    current_url: Mapped[str | None] = mapped_column(Text)
    current_title: Mapped[str | None] = mapped_column(Text)


class Callback(Base):
    __tablename__ = "callbacks"
    __table_args__ = (
        # A retried "call me" command (same visitor, same command id) is one callback.
        UniqueConstraint("visitor_id", "command_id", name="uq_callbacks_visitor_id_command_id"),
        Index("ix_callbacks_state", "state"),
        Index("ix_callbacks_phone_created_at", "phone", "created_at"),
        Index("ix_callbacks_visitor_id_created_at", "visitor_id", "created_at"),
        Index("ix_callbacks_queue_enqueued_at", "queue", "enqueued_at"),
    )

    id: Mapped[str] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    visitor_id: Mapped[str | None] = mapped_column(ForeignKey("visitors.id"))
    # No foreign key: history outlives a queue's configuration.
    queue: Mapped[str]
    name: Mapped[str] = mapped_column(Text, server_default="")
    topic: Mapped[str] = mapped_column(Text, server_default="")
    message: Mapped[str] = mapped_column(Text, server_default="")
    #: A ``Channel`` value: ``browser`` or ``phone``.
    channel: Mapped[str]
    phone: Mapped[str | None]
    tier: Mapped[str] = mapped_column(server_default="standard")
    scheduled_at: Mapped[float | None]
    #: A ``CallbackState`` value.
    state: Mapped[str]
    created_at: Mapped[float]
    enqueued_at: Mapped[float | None]
    offered_at: Mapped[float | None]
    answered_at: Mapped[float | None]
    ended_at: Mapped[float | None]
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"))
    disposition: Mapped[str | None]
    note: Mapped[str | None] = mapped_column(Text)
    #: The client's idempotency key for the "call me" command.
    command_id: Mapped[str | None]


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_outcome", "outcome"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    callback_id: Mapped[str] = mapped_column(ForeignKey("callbacks.id"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    offered_at: Mapped[float]
    expires_at: Mapped[float]
    #: An ``OfferOutcome`` value; NULL while pending.
    outcome: Mapped[str | None]
    ended_at: Mapped[float | None]


class ContactEvent(Base):
    """The customer's timeline. Append-only: rows are inserted, never updated."""

    __tablename__ = "contact_events"
    __table_args__ = (
        Index("ix_contact_events_customer_id_at", "customer_id", "at"),
        Index("ix_contact_events_visitor_id_at", "visitor_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    # Loose references: the log must stay writable whatever else changes.
    visitor_id: Mapped[str | None]
    callback_id: Mapped[str | None]
    agent_id: Mapped[str | None]
    kind: Mapped[str]
    channel: Mapped[str]
    at: Mapped[float]
    data: Mapped[dict[str, Any]]
