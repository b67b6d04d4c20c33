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
    Column,
    Double,
    ForeignKey,
    Index,
    Boolean,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "NAMING_CONVENTION", "Base", "Agent", "Queue", "Customer", "Visitor", "Callback",
    "Offer", "AgentStateLog", "ContactEvent", "Identity", "CustomerMerge", "Product", "Order", "ApiKey",
    "Erasure", "StaffSession", "RevokedVisitor", "ErasedUser", "AnalyticsRun", "CustomerScore",
    "ProductRule", "RuleInteraction", "AdminAudit", "KbArticle", "KbEvent", "FULL_TEXT_NAMES", "include_name",
    "ChangeCounter", "WebhookSubscription", "WebhookEvent", "CentreSetting", "SetupLink",
    "WebhookDelivery", "WebhookAttempt", "HistoryRollup", "HistoryRollupMark", "StaffTotp", "StaffRecoveryCode",
    "WAITING_PHONE",
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
    #: Set while the account is disabled: no sign-in, no session (migration 0700).
    disabled_at: Mapped[float | None]
    #: The language of their staff pages (migration 0850); None: their browser's.
    locale: Mapped[str | None]


class Queue(Base):
    __tablename__ = "queues"

    name: Mapped[str] = mapped_column(primary_key=True)
    title: Mapped[str]
    skills: Mapped[list[str]]
    #: Seconds.
    service_level_target: Mapped[float]
    sort_order: Mapped[int] = mapped_column(server_default="0")
    #: Seconds an agent has to accept an offer of this queue; NULL: the process-wide setting.
    offer_timeout: Mapped[float | None]
    #: Seconds of wrap-up after a contact of this queue; NULL: the process-wide setting.
    wrapup_timeout: Mapped[float | None]
    #: Business hours (``desktop/routing/hours.py``) in the centre's time zone; NULL: always open.
    hours: Mapped[dict[str, Any] | None] = mapped_column(Json)
    #: The wrap-up outcomes agents choose from after its contacts; NULL: the default list.
    dispositions: Mapped[list[str] | None] = mapped_column(Json)
    #: When its phone callbacks may ring, ``HH:MM-HH:MM`` in the number's local time; NULL: the setting.
    calling_hours: Mapped[str | None]
    #: The languages its agents speak (BCP 47, best first); NULL: not said (migration 0870).
    languages: Mapped[list[str] | None] = mapped_column(Json)
    #: The widget's topic choices for it: ``[{"text", "translations": {locale: text}}]``; NULL: none.
    topics: Mapped[list[Any] | None] = mapped_column(Json)
    #: ``off``, ``consent`` or ``on``; NULL: OTODESK_VOICE_RECORDING decides.
    recording: Mapped[str | None]


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        # Only the few merged rows (migration 0003): with every NULL in it, SQLite's
        # statistics made the full index look useless and it scanned the table.
        Index("ix_customers_merged_into", "merged_into",
              sqlite_where=text("merged_into IS NOT NULL"), postgresql_where=text("merged_into IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str | None]
    email: Mapped[str | None] = mapped_column(index=True)
    #: E.164.
    phone: Mapped[str | None] = mapped_column(index=True)
    #: The site's own id for a logged-in customer (vouched for by HMAC).
    external_id: Mapped[str | None] = mapped_column(unique=True)
    #: One of ``records.TIERS``.
    tier: Mapped[str] = mapped_column(server_default="standard")
    created_at: Mapped[float]
    updated_at: Mapped[float]
    #: Set while this customer is merged into another (see ``CustomerMerge``): its
    #: rows stay its own, read as part of the other's record until unmerged.
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    #: The fields (``name``, ``email``, ``phone``) the customer corrected in "My data":
    #: the site's later ``identify`` hints no longer overwrite them.
    corrected: Mapped[list[str] | None] = mapped_column(Json)
    #: The site the record belongs to; an API key made for one site sees only its own.
    site: Mapped[str] = mapped_column(server_default="default", index=True)
    #: Set by a trigger on every insert and update from ``change_counter`` (migration 0860):
    #: the ``changed_since`` feed's order, visible in commit order.
    change_seq: Mapped[int | None] = mapped_column(BigInteger, index=True)


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


#: The rows :class:`Callback`'s unique index on ``phone`` covers: phone requests still waiting.
WAITING_PHONE = "channel = 'phone' AND state IN ('scheduled', 'queued', 'offered')"


class Callback(Base):
    __tablename__ = "callbacks"
    __table_args__ = (
        # A retried "call me" command (same visitor, same command id) is one callback.
        UniqueConstraint("visitor_id", "command_id", name="uq_callbacks_visitor_id_command_id"),
        Index("ix_callbacks_state", "state"),
        Index("ix_callbacks_phone_created_at", "phone", "created_at"),
        Index("ix_callbacks_visitor_id_created_at", "visitor_id", "created_at"),
        Index("ix_callbacks_queue_enqueued_at", "queue", "enqueued_at"),
        # The reports read callbacks by when they entered the queue and when they were answered.
        Index("ix_callbacks_enqueued_at", "enqueued_at"),
        Index("ix_callbacks_answered_at", "answered_at"),
        Index("ix_callbacks_wrapped_up_at", "wrapped_up_at"),
        # One waiting "call my phone" request per number, enforced here (migration 0950): two
        # requests in the same few milliseconds both pass the check made before the insert. A
        # connected one is not counted: its retry is booked while it is still on.
        Index("uq_callbacks_waiting_phone", "phone", unique=True,
              sqlite_where=text(WAITING_PHONE), postgresql_where=text(WAITING_PHONE)),
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
    #: When the agent finished the wrap-up (disposition stored): wrap-up is from ``ended_at`` to this.
    wrapped_up_at: Mapped[float | None]
    #: Seconds the call was on hold (part of answer to end).
    held_seconds: Mapped[float] = mapped_column(server_default="0")
    #: A phone callback's consent record: {at, address, page, text, locale}; NULL otherwise.
    consent: Mapped[dict[str, Any] | None] = mapped_column(Json)
    # After the contact (migration 0830): the agent's summary for the customer, the widget's
    # language, the customer's rating and "not solved" (the request it made, and on that one
    # the contact it follows up), and when the summary's e-mail was claimed for sending.
    summary: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str | None]
    rating: Mapped[int | None]
    rated_at: Mapped[float | None]
    reopened_at: Mapped[float | None]
    reopened_as: Mapped[str | None]
    follow_up_of: Mapped[str | None]
    summary_mailed_at: Mapped[float | None]


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_outcome", "outcome"), Index("ix_offers_offered_at", "offered_at"))

    id: Mapped[str] = mapped_column(primary_key=True)
    callback_id: Mapped[str] = mapped_column(ForeignKey("callbacks.id"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    offered_at: Mapped[float]
    expires_at: Mapped[float]
    #: An ``OfferOutcome`` value; NULL while pending.
    outcome: Mapped[str | None]
    ended_at: Mapped[float | None]


class AgentStateLog(Base):
    """Every change of an agent's state, with its reason: the history behind occupancy.

    Append-only, written with the router's events (``record_routing``).
    """

    __tablename__ = "agent_states"
    __table_args__ = (
        Index("ix_agent_states_agent_id_at", "agent_id", "at"),
        Index("ix_agent_states_at", "at"),
        # The presence changes: what staffed time is read from, a few rows an agent a day.
        Index("ix_agent_states_presence_agent_id_at", "agent_id", "at",
              sqlite_where=text("presence"), postgresql_where=text("presence")),
        Index("ix_agent_states_presence_at", "at", sqlite_where=text("presence"), postgresql_where=text("presence")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Loose: the history outlives an account.
    agent_id: Mapped[str]
    #: An ``AgentState`` value.
    state: Mapped[str]
    reason: Mapped[str] = mapped_column(Text, server_default="")
    at: Mapped[float]
    #: The change is between staffed (available, reserved, busy, wrap-up) and away or offline.
    presence: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class ContactEvent(Base):
    """The customer's timeline. Append-only: rows are inserted, never updated."""

    __tablename__ = "contact_events"
    __table_args__ = (
        # The timeline's keyset order: newest first by (at, id) within one customer.
        Index("ix_contact_events_customer_id_at_id", "customer_id", "at", "id"),
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


class Identity(Base):
    """A way to recognise a customer: ``phone`` (E.164), ``email``, ``user_id`` (the site's).

    Verified identities (a site's HMAC, an agent's confirmation, the API) are
    unique per kind and value: they are what links records. Unverified ones are
    hints, shown and searched, never used to link.
    """

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "value", name="uq_identities_customer_id_kind_value"),
        Index("ix_identities_kind_value", "kind", "value"),
        Index("uq_identities_verified_kind_value", "kind", "value", unique=True,
              sqlite_where=text("verified"), postgresql_where=text("verified")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str]
    value: Mapped[str]
    verified: Mapped[bool] = mapped_column(Boolean)
    #: Who said so: ``identify``, ``identify:hmac``, ``callback``, ``agent:<id>``, ``api``, ``import``.
    source: Mapped[str]
    created_at: Mapped[float]


class CustomerMerge(Base):
    """The audit of merges and unmerges (who, when, why); never updated."""

    __tablename__ = "customer_merges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: ``merge`` or ``unmerge``.
    action: Mapped[str]
    source_id: Mapped[str] = mapped_column(index=True)
    target_id: Mapped[str] = mapped_column(index=True)
    #: ``agent:<id>``, ``api:<key id>``, ``identify:hmac``.
    actor: Mapped[str]
    reason: Mapped[str] = mapped_column(Text, server_default="")
    at: Mapped[float]


class Product(Base):
    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    #: Minor units (cents).
    price_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str]
    category: Mapped[str] = mapped_column(server_default="")
    created_at: Mapped[float]
    updated_at: Mapped[float]


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_id_placed_at", "customer_id", "placed_at"),)

    #: The site's own order id.
    id: Mapped[str] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    placed_at: Mapped[float]
    #: Minor units (cents).
    total_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str]
    status: Mapped[str] = mapped_column(server_default="placed")
    #: ``[{"sku", "quantity", "price_cents"}]``.
    items: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    created_at: Mapped[float]


class ApiKey(Base):
    """A site's key for the REST API; only its SHA-256 is stored."""

    __tablename__ = "api_keys"

    #: The public part, also the key's prefix (``otk_<id>_<secret>``).
    id: Mapped[str] = mapped_column(primary_key=True)
    site: Mapped[str]
    name: Mapped[str]
    key_hash: Mapped[str] = mapped_column(unique=True)
    #: What the key may do: space-separated ``read``, ``write``, ``erase``.
    scopes: Mapped[str] = mapped_column(server_default="read write erase")
    created_at: Mapped[float]
    revoked_at: Mapped[float | None]
    last_used_at: Mapped[float | None]


class Erasure(Base):
    """What an erasure removed, as anonymous counts (no id, no name) for reports."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[float]
    #: ``customer`` (asked in the widget), ``agent:<id>``, ``api:<key id>``.
    requested_by: Mapped[str]
    counts: Mapped[dict[str, Any]]


class StaffSession(Base):
    """A desk sign-in: the cookie is only honoured while its row says so (sign-out revokes)."""

    __tablename__ = "staff_sessions"

    #: SHA-256 of the random session id the signed cookie carries (a database leak gives
    #: no usable cookie).
    id: Mapped[str] = mapped_column(primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    created_at: Mapped[float]
    expires_at: Mapped[float]
    revoked_at: Mapped[float | None]


class StaffTotp(Base):
    """A local-password account's second factor (a TOTP app), one row an account (migration 0940).

    The shared secret is sealed (Fernet, ``desktop/auth/totp.py``) and never leaves the server
    once confirmed; erased with the account (``ON DELETE CASCADE``)."""

    __tablename__ = "staff_totp"

    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    #: The confirmed secret, sealed; NULL until a code from the app confirmed it.
    secret: Mapped[str | None]
    #: A secret shown for enrolment and not yet confirmed, sealed.
    pending: Mapped[str | None]
    enrolled_at: Mapped[float | None]
    #: The last 30-second step whose code was accepted: a code of it or before is refused (replay).
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[float]


class StaffRecoveryCode(Base):
    """A single-use recovery code of a second factor, kept only as an HMAC digest."""

    __tablename__ = "staff_recovery_codes"

    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[str] = mapped_column(primary_key=True)
    created_at: Mapped[float]
    used_at: Mapped[float | None]


class RevokedVisitor(Base):
    """A visitor id whose tokens no longer open anything (signed out, or erased).

    Visitor tokens are signed, not stored; this is how one is revoked before it expires.
    """

    __tablename__ = "revoked_visitors"

    visitor_id: Mapped[str] = mapped_column(primary_key=True)
    revoked_at: Mapped[float]
    #: ``sign_out`` (the site's reset), ``erasure``, ``api:<key id>``, ``agent:<id>``.
    reason: Mapped[str]


class ErasedCustomer(Base):
    """The id of an erased customer, nothing else: a restored backup erases them again."""

    __tablename__ = "erased_customers"

    customer_id: Mapped[str] = mapped_column(primary_key=True)
    erased_at: Mapped[float]


class ErasedUser(Base):
    """The tombstone of an erased signed-in customer: the site's HMAC of their user id.

    ``identify`` with that user id links nothing and stores nothing; the key is the
    ``user_hash`` the site itself computes, so the site can match the list to its users.
    """

    __tablename__ = "erased_users"

    user_key: Mapped[str] = mapped_column(primary_key=True)
    erased_at: Mapped[float]
    requested_by: Mapped[str]


class AnalyticsRun(Base):
    """One run of the analytics job (``otodesk analytics run``); results are kept per run.

    Readers use the latest ``succeeded`` run, so a failed or unfinished one leaves
    the previous results in place.
    """

    __tablename__ = "analytics_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    started_at: Mapped[float]
    finished_at: Mapped[float | None]
    #: ``running``, ``succeeded`` or ``failed``.
    status: Mapped[str]
    model_version: Mapped[str]
    config: Mapped[dict[str, Any]] = mapped_column(Json)
    #: Counts, segments, fitted parameters and notes (see ``AnalyticsResult.summary``).
    summary: Mapped[dict[str, Any] | None] = mapped_column(Json)
    error: Mapped[str | None] = mapped_column(Text)


class CustomerScore(Base):
    """A customer's value, tier, attrition and recommendations in one run."""

    __tablename__ = "customer_scores"
    __table_args__ = (Index("ix_customer_scores_customer_id", "customer_id"),)

    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("analytics_runs.id", ondelete="CASCADE"),
                                        primary_key=True)
    #: No foreign key: erasure deletes these rows by its ``customer_id`` convention.
    customer_id: Mapped[str] = mapped_column(primary_key=True)
    tier: Mapped[str]
    at_risk: Mapped[bool] = mapped_column(Boolean)
    #: The rest of ``CustomerAnalytics`` (RFM, trend, history, p_alive, reasons, ...).
    data: Mapped[dict[str, Any]] = mapped_column(Json)


class ProductRule(Base):
    """An association rule (antecedent -> consequent) found in one run."""

    __tablename__ = "product_rules"

    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("analytics_runs.id", ondelete="CASCADE"),
                                        primary_key=True)
    #: Rank in the run, strongest first.
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    antecedent: Mapped[list[str]] = mapped_column(Json)
    consequent: Mapped[list[str]] = mapped_column(Json)
    support: Mapped[float]
    confidence: Mapped[float]
    lift: Mapped[float]
    count: Mapped[int] = mapped_column(Integer)


class RuleAction(Base):
    """A planner's action as a draft: what publishing would put live (desktop/rules/actions.py)."""

    __tablename__ = "rule_actions"

    id: Mapped[str] = mapped_column(primary_key=True)
    #: The whole ``Action`` as JSON (its schema is the msgspec Struct, checked on every read).
    data: Mapped[dict[str, Any]] = mapped_column(Json)
    #: The catalogue's order (ties in arbitration go to the earlier one).
    position: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[float]
    updated_by: Mapped[str]


class RuleVersion(Base):
    """A published catalogue: an immutable copy of the drafts at the moment of publishing."""

    __tablename__ = "rule_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    published_at: Mapped[float]
    published_by: Mapped[str]
    note: Mapped[str] = mapped_column(Text, server_default="")
    #: Every ``Action`` of the version, in catalogue order, and the ``CatalogueSettings``.
    actions: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    settings: Mapped[dict[str, Any]] = mapped_column(Json)


class RuleAudit(Base):
    """Who changed which action (or published, or imported), when, from what to what."""

    __tablename__ = "rule_audit"
    __table_args__ = (Index("ix_rule_audit_action_id", "action_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[float]
    by: Mapped[str]
    #: ``create``, ``update``, ``delete``, ``publish`` or ``import``.
    what: Mapped[str]
    action_id: Mapped[str | None]
    version: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(Json)
    after: Mapped[dict[str, Any] | None] = mapped_column(Json)


class RuleInteraction(Base):
    """What became of one suggestion on one contact: the interaction history (append-only).

    ``outcome`` is ``shown`` (on the card: an impression), ``presented`` (the agent opened it),
    ``accepted`` or ``declined``; each at most once per contact, action and version.
    The contact policies read it, the planner's results count it, and attribution joins
    an ``accepted`` one for ``product`` with the customer's later orders.
    """

    __tablename__ = "rule_interactions"
    __table_args__ = (
        Index("ix_rule_interactions_customer_id_at", "customer_id", "at"),
        Index("ix_rule_interactions_at", "at"),
        UniqueConstraint("callback_id", "action_id", "version", "outcome",
                         name="uq_rule_interactions_callback_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[float]
    #: No foreign key: erasure deletes these rows by its ``customer_id`` convention.
    customer_id: Mapped[str]
    callback_id: Mapped[str]
    agent_id: Mapped[str | None]
    action_id: Mapped[str]
    version: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str]
    reason: Mapped[str | None] = mapped_column(Text)
    #: The contact's queue and the customer's value tier then, for the results by queue and tier.
    queue: Mapped[str]
    tier: Mapped[str]
    #: The sku the action offers, if any: an order of it within the window is attributed.
    product: Mapped[str | None]
class AdminAudit(Base):
    """Every change made through the admin console or API: who, when, what, before and after.

    Append-only. ``target`` names what changed (``user:<id>``, ``queue:<name>``).
    """

    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(index=True)
    #: ``agent:<id>`` of the admin.
    actor: Mapped[str]
    #: ``user.add``, ``user.disable``, ``queue.update``, ...
    action: Mapped[str]
    target: Mapped[str] = mapped_column(index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(Json)
    after: Mapped[dict[str, Any] | None] = mapped_column(Json)


class CentreSetting(Base):
    """One setting an admin edits in the console (issue 14): ``key`` names it (``urgent_words``,
    ``widget``, ``origins``), ``value`` is its JSON. A key with no row keeps the environment's
    value (``OTODESK_*``, ``desktop/settings.py``): the first admin change writes the row."""

    __tablename__ = "centre_settings"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[Any] = mapped_column(Json)
    updated_at: Mapped[float]


class SetupLink(Base):
    """A one-time link that creates the first admin on a fresh install (``desktop/web/setup.py``).

    ``id`` is the SHA-256 of the link's random part (the link itself is never stored); a link
    is good until ``expires_at`` and only once (``used_at``)."""

    __tablename__ = "setup_links"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    issued_at: Mapped[float]
    expires_at: Mapped[float]
    used_at: Mapped[float | None]


class KbArticle(Base):
    """A knowledge-base article (issue 14): what the widget suggests before a call.

    ``body`` is the admin's Markdown, ``html`` its sanitised rendering (``desktop/kb/markdown.py``),
    made once at save. ``terms`` is the text the full-text index holds
    (``desktop/kb/terms.py``: words and CJK bigrams); the index itself is kept by the database
    and is not in these models (SQLite: the FTS5 table ``kb_fts``; PostgreSQL: the generated
    ``search`` tsvector column and its GIN index), see :data:`FULL_TEXT_NAMES`.
    """

    __tablename__ = "kb_articles"
    __table_args__ = (Index("ix_kb_articles_language_published", "language", "published"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    title: Mapped[str]
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    #: The first words of the body as plain text, for the suggestions.
    summary: Mapped[str]
    #: ``en``, ``zh-CN`` or ``zh-TW``.
    language: Mapped[str]
    tags: Mapped[list[str]] = mapped_column(Json)
    #: URL patterns of the site pages it belongs to (``desktop/kb/pages.py``).
    pages: Mapped[list[str]] = mapped_column(Json)
    #: Queue names; empty: every queue.
    queues: Mapped[list[str]] = mapped_column(Json)
    published: Mapped[bool] = mapped_column(Boolean)
    terms: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float]
    updated_at: Mapped[float]


class KbEvent(Base):
    """What a visitor did with an article: ``view``, ``solved``, ``unsolved`` (still wants a
    call), ``call`` (asked for a call after reading it). Append-only; for the reports."""

    __tablename__ = "kb_events"
    __table_args__ = (
        Index("ix_kb_events_at_article_id", "at", "article_id"),
        Index("ix_kb_events_visitor_id_at", "visitor_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Loose references: an article deleted later keeps its history in the reports.
    article_id: Mapped[str]
    visitor_id: Mapped[str]
    kind: Mapped[str]
    at: Mapped[float]


#: The full-text index's own objects, kept by the database, outside the models: the schema
#: comparison (tests) leaves them out.
FULL_TEXT_NAMES = frozenset({"kb_fts", "kb_fts_data", "kb_fts_idx", "kb_fts_content", "kb_fts_docsize",
                             "kb_fts_config", "search", "search_title", "ix_kb_articles_search",
                             "ix_kb_articles_search_title"})


#: PostgreSQL's own column for the contacts' change feed (``contact_events.xid``, migration
#: 0910, read by raw SQL in desktop/repository/changes.py): not in the models either.
FEED_NAMES = frozenset({"xid", "ix_contact_events_xid_id"})


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """For ``compare_metadata``: everything but :data:`FULL_TEXT_NAMES` and :data:`FEED_NAMES`."""
    return name not in FULL_TEXT_NAMES and name not in FEED_NAMES


class ChangeCounter(Base):
    """The one counter (row ``changes``) the change-feed triggers number rows from (0860)."""

    __tablename__ = "change_counter"

    name: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class WebhookSubscription(Base):
    """A receiver: where events of the listed types are POSTed, signed with ``secret``."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]]
    secret: Mapped[str]
    description: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[float]
    #: Set when removed: nothing new is queued for it (its log stays).
    disabled_at: Mapped[float | None]
    #: After a rotation, the old secret, still signing beside the new one until ``previous_until`` (0920).
    previous_secret: Mapped[str | None]
    previous_until: Mapped[float | None]


class WebhookEvent(Base):
    """The outbox: one thing that happened, written with the change it tells of.

    The subjects are not named ``customer_id``/``callback_id`` on purpose: erasure redacts
    these rows' ``data`` rather than deleting them by column convention (deliveries point here).
    """

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(primary_key=True)
    type: Mapped[str]
    at: Mapped[float]
    data: Mapped[dict[str, Any]]
    subject_customer: Mapped[str | None] = mapped_column(index=True)
    subject_callback: Mapped[str | None] = mapped_column(index=True)


class WebhookDelivery(Base):
    """One event for one subscription: ``pending`` until a 2xx, ``delivered`` or ``failed``."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_state_next_at", "state", "next_at"),
        Index("ix_webhook_deliveries_subscription_id_order_key_state", "subscription_id", "order_key", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id"), index=True)
    #: The callback (else the customer, else the event): one key's deliveries go in id order.
    order_key: Mapped[str]
    state: Mapped[str]
    attempts: Mapped[int] = mapped_column(server_default="0")
    created_at: Mapped[float]
    next_at: Mapped[float]
    #: Until when the process that claimed it is sending it; NULL or past: free.
    lease_until: Mapped[float | None]
    finished_at: Mapped[float | None]


class WebhookAttempt(Base):
    """The delivery log: each POST, its status code or error, its duration (seconds)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_deliveries.id"), index=True)
    attempt: Mapped[int]
    at: Mapped[float]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    duration: Mapped[float]


#: The sums a history rollup row holds (``desktop.repository.history_rollups``); all default 0.
ROLLUP_SUMS = (
    "offered", "answered", "answered_within_target", "abandoned", "short_abandoned", "wait_seconds",
    "handled", "talk_seconds", "hold_seconds", "wrap_up_seconds", "scheduled_kept",
    "scheduled_missed_late", "scheduled_missed_unanswered", "browser", "phone", "phone_inbound", "closed",
    "offers", "accepted", "declined", "missed", "withdrawn", "contacts", "staffed_seconds",
    "summaries", "rated", "rating_sum", "reopened",
)


class HistoryRollup(Base):
    """The reports' sums, kept for closed periods so a report doesn't re-read every callback.

    ``level`` ``slot``: 15 UTC minutes from ``at`` (queues only); ``day``: the centre's local
    day starting at the instant ``at``. ``kind`` ``queue`` (by entering the queue), ``agent``
    (by the answer), ``offer`` (by the offer), ``disposition`` (``detail`` the outcome, in
    ``contacts``), ``staffed`` (``staffed_seconds``) or ``satisfaction`` (by the wrap-up; ``key``
    the queue, ``detail`` the agent). Rebuilt, never patched, when the
    settings they depend on change.
    """

    __tablename__ = "history_rollups"

    level: Mapped[str] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(primary_key=True)
    at: Mapped[float] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(primary_key=True)
    detail: Mapped[str] = mapped_column(primary_key=True)


for _name in ROLLUP_SUMS:
    # Core only reads these (no mapped attributes needed): the columns named once.
    HistoryRollup.__table__.append_column(  # type: ignore[attr-defined]
        Column(_name, Double(), nullable=False, server_default="0"))


class HistoryRollupMark(Base):
    """How far the rollups reach (one row): slots before ``slots_until`` and local days before
    ``days_until`` are summed, under the settings ``fingerprint`` names."""

    __tablename__ = "history_rollup_marks"

    name: Mapped[str] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(Text)
    slots_until: Mapped[float]
    days_until: Mapped[float]
    updated_at: Mapped[float]
