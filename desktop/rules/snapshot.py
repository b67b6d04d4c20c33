"""The customer snapshot: everything a condition or a script placeholder may read.

One flat, typed record (a :class:`msgspec.Struct`), built by the desk from the repository when
an offer rings and again whenever the page, cart or context changes. Flat names keep
conditions short (``tier == "gold" and "aurora-laptop-14" in cart_skus``) and let the rule
engine check every name and type at save time (:data:`FIELD_TYPES`).

Conventions, so no condition ever meets a null where it expects a number:

- money is a float in the shop's major unit (1299.0, not 129900);
- counts and days are floats (the rule engine has one number type);
- ``days_since_last_order`` is ``-1.0`` for a customer who never ordered;
- the analytics' scores are 0 / False / "" until the analytics job ran (``scored`` says
  whether it did), so ``scored and at_risk`` reads as it should.
"""

from __future__ import annotations

import msgspec
from rule_engine import DataType

__all__ = ["Snapshot", "FIELD_TYPES", "FIELD_HELP", "snapshot_context", "WEEKDAYS"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Snapshot(msgspec.Struct, kw_only=True, frozen=True):
    # -- who (profile) --------------------------------------------------------------------
    customer_id: str = ""
    first_name: str = ""
    name: str = ""
    tier: str = "standard"               # standard | silver | gold | platinum
    segments: tuple[str, ...] = ()       # e.g. ("champions",), from the analytics' RFM segments
    # -- value over periods ---------------------------------------------------------------
    spend_30d: float = 0.0
    spend_90d: float = 0.0
    spend_365d: float = 0.0
    orders: float = 0.0                  # orders ever (not cancelled/refunded)
    days_since_last_order: float = -1.0  # -1: never ordered
    # -- scores from the analytics job (desktop/analytics), when it ran -----------------
    scored: bool = False
    rfm_recency: float = 0.0             # 1..5
    rfm_frequency: float = 0.0           # 1..5
    rfm_monetary: float = 0.0            # 1..5
    rfm_segment: str = ""
    previous_tier: str = ""              # the analytics tier a period earlier
    tier_trend: str = ""                 # up | down | same | new ("" when not scored)
    at_risk: bool = False
    at_risk_reason: str = ""
    p_alive: float = 0.0                 # 0..1
    expected_purchases_90d: float = 0.0
    # -- products -------------------------------------------------------------------------
    recommended: tuple[str, ...] = ()    # SKUs recommended to this customer
    associated: tuple[str, ...] = ()     # SKUs associated with what is in the cart
    owned: tuple[str, ...] = ()          # SKUs the customer bought
    # -- the cart and context the site set ------------------------------------------------
    cart_skus: tuple[str, ...] = ()
    cart_categories: tuple[str, ...] = ()
    cart_names: tuple[str, ...] = ()
    cart_total: float = 0.0
    cart_items: float = 0.0              # quantity summed over lines
    context: dict[str, str] = msgspec.field(default_factory=dict)  # the site's other keys, as text
    # -- the page -------------------------------------------------------------------------
    page_url: str = ""
    page_title: str = ""
    trail: tuple[str, ...] = ()          # URLs visited this visit, oldest first
    # -- this contact -----------------------------------------------------------------------
    queue: str = ""
    topic: str = ""
    message: str = ""
    channel: str = ""                    # browser | phone
    # -- history ----------------------------------------------------------------------------
    previous_contacts: float = 0.0
    dispositions: tuple[str, ...] = ()   # previous contacts' dispositions, newest first
    last_disposition: str = ""
    open_issues: float = 0.0
    # -- when (the site's local time, set by the builder) ------------------------------------
    hour: float = 0.0                    # 0..23
    weekday: str = ""                    # mon .. sun


_S, _F, _B = DataType.STRING, DataType.FLOAT, DataType.BOOLEAN
_LIST = DataType.ARRAY(DataType.STRING)

#: The type of every field as conditions see it (rule-engine's type map).
FIELD_TYPES: dict[str, object] = {
    "customer_id": _S, "first_name": _S, "name": _S, "tier": _S, "segments": _LIST,
    "spend_30d": _F, "spend_90d": _F, "spend_365d": _F, "orders": _F, "days_since_last_order": _F,
    "scored": _B, "rfm_recency": _F, "rfm_frequency": _F, "rfm_monetary": _F, "rfm_segment": _S,
    "previous_tier": _S, "tier_trend": _S, "at_risk": _B, "at_risk_reason": _S, "p_alive": _F, "expected_purchases_90d": _F,
    "recommended": _LIST, "associated": _LIST, "owned": _LIST,
    "cart_skus": _LIST, "cart_categories": _LIST, "cart_names": _LIST, "cart_total": _F, "cart_items": _F,
    "context": DataType.MAPPING(DataType.STRING, DataType.STRING),
    "page_url": _S, "page_title": _S, "trail": _LIST,
    "queue": _S, "topic": _S, "message": _S, "channel": _S,
    "previous_contacts": _F, "dispositions": _LIST, "last_disposition": _S, "open_issues": _F,
    "hour": _F, "weekday": _S,
}

#: One line a field, for the planner's editor.
FIELD_HELP: dict[str, str] = {
    "customer_id": "the customer's id", "first_name": "first name", "name": "full name",
    "tier": "value tier: standard, silver, gold, platinum", "segments": "segments (RFM segment names)",
    "spend_30d": "spend over 30 days", "spend_90d": "spend over 90 days", "spend_365d": "spend over 365 days",
    "orders": "orders placed", "days_since_last_order": "days since the last order (-1: never ordered)",
    "scored": "whether the analytics scored this customer", "rfm_recency": "RFM recency 1-5",
    "rfm_frequency": "RFM frequency 1-5", "rfm_monetary": "RFM monetary 1-5", "rfm_segment": "RFM segment",
    "previous_tier": "the analytics tier a period earlier", "tier_trend": "the tier's trend: up, down, same, new",
    "at_risk": "attrition risk flagged", "at_risk_reason": "why at risk", "p_alive": "probability still active",
    "expected_purchases_90d": "expected purchases over 90 days",
    "recommended": "SKUs recommended for the customer", "associated": "SKUs associated with the cart",
    "owned": "SKUs bought before", "cart_skus": "SKUs in the cart", "cart_categories": "categories in the cart",
    "cart_names": "product names in the cart", "cart_total": "cart total", "cart_items": "items in the cart",
    "context": 'the site\'s context (text values): context&["campaign"]',
    "page_url": "the page now", "page_title": "its title", "trail": "pages visited this visit",
    "queue": "the queue of this contact", "topic": "the topic chosen", "message": "the customer's message",
    "channel": "browser or phone", "previous_contacts": "contacts before this one",
    "dispositions": "previous contacts' dispositions", "last_disposition": "the last contact's disposition",
    "open_issues": "open issues", "hour": "hour of day 0-23", "weekday": "mon .. sun",
}


def snapshot_context(snapshot: Snapshot) -> dict[str, object]:
    """The snapshot as the mapping the rule engine reads (and placeholders fill from)."""
    return msgspec.structs.asdict(snapshot)
