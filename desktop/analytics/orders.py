"""The order the analytics read, and what counts as a purchase.

An order is a customer's basket at a time with a value in minor units. A refund
is an order with a negative value (or a refunded one the caller passes with its
value negated); a zero-value order (a free sample, a replacement) is neither a
purchase nor spend. Everything downstream relies on :func:`is_purchase`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AnalyticsError", "Order", "is_purchase", "DAY"]

DAY = 86400.0


class AnalyticsError(ValueError):
    """Input or settings the analytics cannot work with; the message says which."""


@dataclass(frozen=True, slots=True)
class Order:
    customer_id: str
    #: Seconds since the epoch.
    placed_at: float
    #: Minor units; negative for a refund.
    value_cents: int
    #: Product ids (skus) in the basket.
    items: tuple[str, ...] = ()


def is_purchase(order: Order) -> bool:
    """A purchase moves the customer's frequency: a positive value."""
    return order.value_cents > 0
