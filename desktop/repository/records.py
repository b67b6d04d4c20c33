"""What the repository hands back: small frozen records, never ORM objects.

Records are plain values: safe to keep after the transaction that read them,
to pass between tasks and to serialise (``dataclasses.asdict``). Every time is
a float of seconds since the epoch (UTC), the unit the router uses too.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from desktop.routing.events import (
    TERMINAL_CALLBACK_STATES,
    AgentState,
    CallbackState,
    Channel,
    OfferOutcome,
)

__all__ = [
    "ROLES", "SSO_MARKER", "TIERS", "AgentRecord", "QueueRecord", "CustomerRecord", "VisitorRecord",
    "CallbackRecord", "OfferRecord", "ContactEventRecord", "QueueDayStats",
    "check_role", "check_tier", "check_phone",
    "IDENTITY_KINDS", "IdentityRecord", "MergeRecord", "TimelinePage", "ProductRecord",
    "OrderRecord", "ApiKeyRecord", "ErasureResult",
]

#: What an identity may be: an E.164 phone, an e-mail, the site's own user id.
IDENTITY_KINDS = ("phone", "email", "user_id")

#: The password hash of an account signed in through SSO: not an argon2 hash, so no password
#: ever verifies against it.
SSO_MARKER = "!sso:"

#: Agent roles, least to most powerful.
ROLES = ("agent", "supervisor", "admin", "planner")
#: Customer value tiers, lowest to highest (the router puts higher tiers first).
TIERS = ("standard", "silver", "gold", "platinum")

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


def check_role(role: str) -> str:
    """Return ``role`` if it is one of :data:`ROLES`, else raise ``ValueError``."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; expected one of {', '.join(ROLES)}")
    return role


def check_tier(tier: str) -> str:
    """Return ``tier`` if it is one of :data:`TIERS`, else raise ``ValueError``."""
    if tier not in TIERS:
        raise ValueError(f"Unknown tier {tier!r}; expected one of {', '.join(TIERS)}")
    return tier


def check_phone(phone: str | None) -> str | None:
    """Return ``phone`` if it is ``None`` or in E.164 form, else raise ``ValueError``.

    Parsing what people type is the web layer's job (``phonenumbers``); the
    repository only refuses what was not parsed.
    """
    if phone is not None and not _E164.fullmatch(phone):
        raise ValueError(f"Phone number {phone!r} is not in E.164 form (+15551234567)")
    return phone


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AgentRecord:
    """An agent, supervisor or admin. The password hash never leaves the database."""

    id: str
    username: str
    display_name: str
    role: str
    skills: tuple[str, ...]
    state: AgentState
    state_reason: str
    state_since: float
    created_at: float
    #: When the account was disabled (no sign-in, no session); None while enabled.
    disabled_at: float | None = None
    #: The language of their staff pages ("zh-CN"); None: their browser's Accept-Language.
    locale: str | None = None
    #: Signs in through the company's identity provider (no password here, no second factor).
    sso: bool = False


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueRecord:
    name: str
    title: str
    skills: tuple[str, ...]
    #: Seconds within which a callback should be answered.
    service_level_target: float
    sort_order: int
    #: Seconds to accept an offer / of wrap-up; None: the process-wide settings.
    offer_timeout: float | None = None
    wrapup_timeout: float | None = None
    #: Business hours as stored (``desktop/routing/hours.py``); None: always open.
    hours: dict | None = None
    #: Wrap-up outcomes of this queue's contacts; None: the default list (desktop/contacts/card.py).
    dispositions: tuple[str, ...] | None = None
    #: When its phone callbacks may ring (``desktop/routing/calling.py``); None: the setting.
    calling_hours: str | None = None
    #: The languages its agents speak (BCP 47, best first); empty: not said.
    languages: tuple[str, ...] = ()
    #: The widget's topic choices: ``{"text", "translations": {locale: text}}`` each.
    topics: tuple[dict, ...] = ()
    #: ``off``, ``consent`` or ``on``; None: OTODESK_VOICE_RECORDING decides.
    recording: str | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CustomerRecord:
    """One person, however many browsers (visitors) they came from."""

    id: str
    name: str | None
    email: str | None
    phone: str | None
    external_id: str | None
    tier: str
    created_at: float
    updated_at: float
    #: The customer this one is merged into, if any (its rows read as that one's).
    merged_into: str | None = None
    #: Fields the customer corrected in "My data" (the site's hints no longer overwrite them).
    corrected: tuple[str, ...] = ()
    #: The site the record belongs to (API keys made for a site see only its customers).
    site: str = "default"
    #: Its place in the change feed (``changed_since``): larger for every later write.
    change_seq: int | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VisitorRecord:
    """One browser, named by the id inside its signed visitor token."""

    id: str
    customer_id: str
    created_at: float
    last_seen_at: float
    #: What the site set with ``setContext`` (replaced as a whole each time).
    context: dict[str, Any]
    current_url: str | None
    current_title: str | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CallbackRecord:
    id: str
    customer_id: str
    visitor_id: str | None
    queue: str
    name: str
    topic: str
    message: str
    channel: Channel
    phone: str | None
    tier: str
    scheduled_at: float | None
    state: CallbackState
    created_at: float
    #: When it first entered the queue; kept across declined offers.
    enqueued_at: float | None
    #: When the most recent offer was made.
    offered_at: float | None
    answered_at: float | None
    ended_at: float | None
    #: The agent who connected; ``None`` until then (offers keep their own agent).
    agent_id: str | None
    disposition: str | None
    note: str | None
    command_id: str | None
    #: When the agent's wrap-up of it ended (the disposition stored).
    wrapped_up_at: float | None = None
    #: Seconds the call spent on hold.
    held_seconds: float = 0.0
    #: What the customer agreed to for a phone callback: {at, address, page, text, locale}.
    consent: dict | None = None
    #: After the contact (desktop/aftercall): the agent's summary for the customer, the
    #: widget's language, the rating (1-5), "not solved" and the request it made.
    summary: str | None = None
    locale: str | None = None
    rating: int | None = None
    rated_at: float | None = None
    reopened_at: float | None = None
    reopened_as: str | None = None
    #: On a request made by "not solved": the contact it follows up.
    follow_up_of: str | None = None
    summary_mailed_at: float | None = None

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_CALLBACK_STATES


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class OfferRecord:
    id: str
    callback_id: str
    agent_id: str
    offered_at: float
    expires_at: float
    #: ``None`` while the offer is pending.
    outcome: OfferOutcome | None
    ended_at: float | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ContactEventRecord:
    """One entry of a customer's timeline. Append-only: never changed once written."""

    id: int
    customer_id: str
    visitor_id: str | None
    callback_id: str | None
    agent_id: str | None
    #: What happened: ``page_view``, ``callback_requested``, ``callback_connected``, ...
    kind: str
    #: Where it happened: ``web``, ``browser`` (voice in the browser), ``phone``, ...
    channel: str
    at: float
    data: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueDayStats:
    """A queue's figures for the callbacks that entered it since a given time."""

    queue: str
    #: Callbacks that entered the queue.
    offered: int
    answered: int
    answered_within_target: int
    #: Abandoned plus cancelled by the customer.
    abandoned: int
    #: Mean seconds from entering the queue to being answered; ``None`` if none answered.
    avg_speed_of_answer: float | None
    #: ``answered_within_target / offered``; ``None`` with nothing offered or no target.
    service_level: float | None
    #: ``abandoned / offered``; ``None`` with nothing offered.
    abandon_rate: float | None
    #: Of ``offered``, the calls that came in on the phone (``phone_inbound``).
    inbound: int = 0


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class IdentityRecord:
    """One way to recognise a customer (``visitor`` ones are read from the visitors)."""

    id: int | None
    customer_id: str
    #: ``phone``, ``email``, ``user_id`` or ``visitor``.
    kind: str
    value: str
    #: Only verified identities link records.
    verified: bool
    source: str
    created_at: float


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MergeRecord:
    """One audited merge or unmerge."""

    id: int
    #: ``merge`` or ``unmerge``.
    action: str
    source_id: str
    target_id: str
    actor: str
    reason: str
    at: float


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TimelinePage:
    """A page of a timeline, newest first; pass ``next_cursor`` for the next (None: no more)."""

    events: list[ContactEventRecord]
    next_cursor: str | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ProductRecord:
    sku: str
    name: str
    #: Minor units (cents).
    price_cents: int
    currency: str
    category: str
    created_at: float
    updated_at: float


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class OrderRecord:
    id: str
    customer_id: str
    placed_at: float
    #: Minor units (cents).
    total_cents: int
    currency: str
    status: str
    items: list[dict[str, Any]]
    created_at: float


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ApiKeyRecord:
    """An API key as stored: never the key itself."""

    id: str
    site: str
    name: str
    created_at: float
    revoked_at: float | None
    last_used_at: float | None
    #: What the key may do: some of ``read``, ``write``, ``erase`` (see ``API_SCOPES``).
    scopes: tuple[str, ...] = ("read", "write", "erase")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ErasureResult:
    """What an erasure removed from the database, and what to scrub elsewhere.

    ``counts`` is what was kept in the ``erasures`` table (anonymous). The ids and
    ``identifiers`` (phones, e-mails, names) are for the caller to scrub files and
    Redis with; they must not be stored.
    """

    counts: dict[str, int]
    customer_ids: tuple[str, ...]
    visitor_ids: tuple[str, ...]
    callback_ids: tuple[str, ...]
    identifiers: tuple[str, ...]
