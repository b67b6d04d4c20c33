"""An action: what a planner wants an agent to offer, to whom, when, and how often.

Actions are plain msgspec Structs so the REST layer, the repository (drafts, published
versions, export/import) and the matcher share one schema; :func:`decode_action` is the one
place a JSON body becomes an :class:`Action` (``msgspec.ValidationError`` names the field).
"""

from __future__ import annotations

import enum

import msgspec

__all__ = [
    "Kind", "Stage", "PushKind", "Push", "ContactPolicy", "Action", "CatalogueSettings",
    "decode_action", "encode", "Impression", "Outcome",
]


class Kind(enum.StrEnum):
    CROSS_SELL = "cross-sell"
    UP_SELL = "up-sell"
    RETENTION = "retention"
    SERVICE = "service"
    INFORMATION = "information"


class Stage(enum.StrEnum):
    """Where an action left the funnel, in the order the matcher runs them."""
    DISABLED = "disabled"            # the planner switched it off
    QUEUE = "queue"                  # not for this contact's queue
    VALIDITY = "validity"            # outside its validity window
    ELIGIBILITY = "eligibility"      # the customer does not qualify
    APPLICABILITY = "applicability"  # not relevant now
    SUITABILITY = "suitability"      # not in the customer's interest
    CONTACT_POLICY = "contact_policy"  # shown enough, or refused lately
    ERROR = "error"                  # a condition raised while matching: skipped, counted
    ARBITRATION = "arbitration"      # ranked below the per-contact limit


class PushKind(enum.StrEnum):
    DOCUMENT = "document"  # a document id of the document library (desktop/cobrowse/documents.py)
    PAGE = "page"          # a URL to send the customer's page to ("go to this page")


class Push(msgspec.Struct, kw_only=True, frozen=True):
    kind: PushKind
    target: str  # the document id, or the page URL (absolute, or a path on the site)
    label: str = ""


class ContactPolicy(msgspec.Struct, kw_only=True, frozen=True):
    #: At most this many impressions per customer within ``window_days`` (None: no cap).
    max_impressions: int | None = None
    window_days: float = 30.0
    #: After the customer declined it, not again for this many days (None: declines don't count).
    refusal_days: float | None = None


class Action(msgspec.Struct, kw_only=True, frozen=True):
    id: str                        # stable, planner-visible ("laptop-bag"); [a-z0-9-]
    kind: Kind
    title: str
    #: Shown to the agent; ``{field}`` or ``{field|fallback}`` placeholders (fields of the
    #: snapshot, plus ``product``: this action's product name). Never rendered as ``{...}``.
    script: str = ""
    product_sku: str = ""          # the product it offers (for attribution), if any
    product_name: str = ""
    push: Push | None = None
    value: float = 1.0             # business value of an acceptance (major currency unit or points)
    lever: float = 1.0             # the planner's priority lever (×)
    priority: float = 1.0          # the action's own priority (×), e.g. 0..100
    valid_from: float | None = None   # seconds since the epoch, inclusive
    valid_until: float | None = None  # exclusive
    queues: tuple[str, ...] = ()   # empty: every queue
    eligibility: str = ""          # rule-engine expressions; empty means "always"
    applicability: str = ""
    suitability: str = ""
    policy: ContactPolicy = msgspec.field(default_factory=ContactPolicy)
    enabled: bool = True


class CatalogueSettings(msgspec.Struct, kw_only=True, frozen=True):
    #: The global contact policy: at most this many suggestions in one contact.
    max_per_contact: int = 3


class Outcome(enum.StrEnum):
    SHOWN = "shown"          # the desk displayed it (one impression per contact)
    PRESENTED = "presented"  # the agent said it to the customer
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Impression(msgspec.Struct, kw_only=True, frozen=True):
    """One action's fate in one past contact, for the contact policies: the desk passes the
    customer's recent ones (``at``: seconds since the epoch of the newest outcome)."""
    action_id: str
    contact_id: str
    at: float
    outcome: Outcome = Outcome.SHOWN


def decode_action(data: bytes | str | dict) -> Action:
    """An :class:`Action` from JSON text or decoded JSON; raises ``msgspec.ValidationError``."""
    if isinstance(data, dict):
        return msgspec.convert(data, Action)
    return msgspec.json.decode(data, type=Action)


def encode(value) -> dict | list:
    """Structs (and lists of them) as JSON-ready builtins."""
    return msgspec.to_builtins(value)
