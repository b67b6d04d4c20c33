"""Customer analytics: value tiers, attrition, product associations, recommendations.

A pure package: plain data in, results out; no database, no clock (``now`` is
passed in), no I/O. The job that feeds it orders and stores what it returns is
:mod:`desktop.leader.analytics_job`.

Modules, one idea each:

- :mod:`.orders` the order line the others read, and what counts as a purchase
- :mod:`.rfm` recency, frequency, monetary per period; value tiers and their trend
- :mod:`.attrition` BG/NBD (still active? purchases to come) and Gamma-Gamma (spend)
- :mod:`.associations` product-to-product rules (efficient-apriori) and the cart lookup
- :mod:`.recommendations` product-to-customer: item-item similarity
- :mod:`.compute` all of the above for every customer, as one versioned result

Errors: :class:`AnalyticsError` (a ``ValueError``) for input or settings that
cannot be analysed; its message says which.
"""

from desktop.analytics.orders import AnalyticsError, Order

__all__ = ["AnalyticsError", "Order"]
