"""The customer snapshot the rules read, built from a contact card, orders and analytics scores."""

from __future__ import annotations

import datetime

import pytest

from desktop.contacts.snapshot import cart_lines, snapshot_of
from desktop.repository.analytics import AnalyticsRunRecord, CustomerScoreRecord, RuleRecord
from desktop.repository.records import OrderRecord, ProductRecord

DAY = 86400.0
# Wednesday 2 December 2026, 14:30 UTC.
NOW = datetime.datetime(2026, 12, 2, 14, 30, tzinfo=datetime.UTC).timestamp()


def order(id: str, days_ago: float, total: int, *skus: str, status: str = "paid") -> OrderRecord:
    return OrderRecord(id=id, customer_id="c1", placed_at=NOW - days_ago * DAY, total_cents=total, currency="USD",
                       status=status, items=[{"sku": s, "quantity": 1, "price_cents": 100} for s in skus],
                       created_at=NOW)


def card(**changes) -> dict:
    base = {
        "callback_id": "cb1",
        "callback": {"id": "cb1", "queue": "sales", "name": "Nina Park", "topic": "Checkout", "message": "Card refused",
                     "channel": "browser"},
        "customer": {"id": "c1", "name": "Nina Park", "email": "nina@example.com", "tier": "gold"},
        "page": {"url": "https://shop.test/checkout", "title": "Checkout", "at": NOW},
        "trail": [{"url": "https://shop.test/checkout", "at": NOW}, {"url": "https://shop.test/cart", "at": NOW - 60},
                  {"url": "https://shop.test/", "at": NOW - 120}],
        "context": {"cart": [{"slug": "aurora-laptop-14", "name": "Aurora Laptop 14", "price": 1299, "qty": 1},
                             {"slug": "nimbus-headphones", "name": "Nimbus Headphones", "price": 249, "qty": 2}],
                    "cart_total": 1797, "currency": "USD", "coupon": {"code": "WINTER"}},
        "previous": [
            {"kind": "wrap_up", "at": NOW - 2 * DAY, "data": {"disposition": "Follow-up needed"}},
            {"kind": "callback_requested", "at": NOW - 2 * DAY - 300, "data": {}},
            {"kind": "wrap_up", "at": NOW - 9 * DAY, "data": {"disposition": "Resolved"}},
            {"kind": "callback_requested", "at": NOW - 9 * DAY - 300, "data": {}},
        ],
        "open_issues": [{"disposition": "Follow-up needed"}],
    }
    base.update(changes)
    return base


def test_profile_contact_page_cart_and_history_come_from_the_card() -> None:
    snap = snapshot_of(card(), now=NOW)
    assert (snap.customer_id, snap.first_name, snap.name, snap.tier) == ("c1", "Nina", "Nina Park", "gold")
    assert (snap.queue, snap.topic, snap.message, snap.channel) == ("sales", "Checkout", "Card refused", "browser")
    assert snap.page_url == "https://shop.test/checkout" and snap.page_title == "Checkout"
    assert snap.trail == ("https://shop.test/", "https://shop.test/cart", "https://shop.test/checkout")  # oldest first
    assert snap.cart_skus == ("aurora-laptop-14", "nimbus-headphones")
    assert snap.cart_names == ("Aurora Laptop 14", "Nimbus Headphones")
    assert snap.cart_total == 1797.0 and snap.cart_items == 3.0
    # The site's other keys, as text (rule-engine reads a map of strings).
    assert snap.context == {"currency": "USD", "coupon": '{"code":"WINTER"}'}
    assert snap.previous_contacts == 2.0
    assert snap.dispositions == ("Follow-up needed", "Resolved") and snap.last_disposition == "Follow-up needed"
    assert snap.open_issues == 1.0


def test_spend_over_periods_orders_and_products_owned_leave_out_cancelled_and_refunded() -> None:
    orders = [order("o1", 10, 12_000, "aurora-laptop-14"), order("o2", 60, 5_000, "terra-home-hub"),
              order("o3", 200, 30_000, "swift-e-bike", "terra-home-hub"), order("o4", 500, 1_000, "old"),
              order("x", 5, 99_999, "pixel-pro-camera", status="cancelled"),
              order("r", 5, 99_999, "orbit-smartwatch", status="refunded")]
    snap = snapshot_of(card(), orders=orders, now=NOW)
    assert (snap.spend_30d, snap.spend_90d, snap.spend_365d) == (120.0, 170.0, 470.0)  # major units
    assert snap.orders == 4.0
    assert snap.days_since_last_order == pytest.approx(10.0)
    assert snap.owned == ("aurora-laptop-14", "terra-home-hub", "swift-e-bike", "old")  # newest first


def test_a_customer_who_never_ordered_and_was_never_scored() -> None:
    snap = snapshot_of(card(customer={"id": None, "name": None}, previous=[], open_issues=[], context={}), now=NOW)
    assert snap.customer_id == "" and snap.first_name == "Nina"  # the name they gave the callback
    assert snap.orders == 0.0 and snap.days_since_last_order == -1.0 and snap.spend_365d == 0.0
    assert snap.scored is False and snap.at_risk is False and snap.p_alive == 0.0
    assert snap.cart_skus == () and snap.associated == () and snap.tier == "standard"


def test_analytics_scores_and_products_associated_with_the_cart() -> None:
    run = AnalyticsRunRecord(id=3, started_at=NOW - DAY, finished_at=NOW - DAY, status="succeeded",
                             model_version="1", config={"period_days": 180.0}, summary={}, error=None)
    score = CustomerScoreRecord(run=run, customer_id="c1", tier="gold", at_risk=True, data={
        "p_alive": 0.31, "expected_purchases": 2.0, "trend": "down", "rfm_scores": [2, 4, 5], "previous_tier": "platinum", "reasons": ["tier fell", "p_alive low"],
        "recommendations": ["orbit-smartwatch", "terra-home-hub"]})
    rules = [RuleRecord(["aurora-laptop-14"], ["laptop-sleeve"], 0.1, 0.5, 3.0, 10),
             RuleRecord(["aurora-laptop-14"], ["nimbus-headphones"], 0.1, 0.5, 4.0, 10),  # in the cart already
             RuleRecord(["pixel-pro-camera"], ["sd-card"], 0.1, 0.5, 9.0, 10)]  # antecedent not in the cart
    products = {"aurora-laptop-14": ProductRecord(sku="aurora-laptop-14", name="Aurora", price_cents=129_900,
                                                  currency="USD", category="Laptops", created_at=0, updated_at=0)}
    snap = snapshot_of(card(), score=score, rules=rules, products=products, now=NOW)
    assert snap.scored and snap.at_risk and snap.p_alive == 0.31
    assert snap.at_risk_reason == "tier fell; p_alive low"
    assert snap.expected_purchases_90d == pytest.approx(1.0)  # 2 over 180 days
    assert snap.recommended == ("orbit-smartwatch", "terra-home-hub")
    assert snap.segments == ("gold", "trend:down", "at-risk") and snap.rfm_segment == "gold"
    assert (snap.rfm_recency, snap.rfm_frequency, snap.rfm_monetary) == (2.0, 4.0, 5.0)
    assert (snap.previous_tier, snap.tier_trend) == ("platinum", "down")  # a rule can test the trend
    assert snap.associated == ("laptop-sleeve",)
    assert snap.cart_categories == ("Laptops",)


def test_time_of_day_is_the_contact_centres() -> None:
    assert (snapshot_of(card(), now=NOW).hour, snapshot_of(card(), now=NOW).weekday) == (14.0, "wed")
    tokyo = snapshot_of(card(), now=NOW, zone="Asia/Tokyo")  # UTC+9: 23:30 the same day
    assert (tokyo.hour, tokyo.weekday) == (23.0, "wed")
    auckland = snapshot_of(card(), now=NOW, zone="Pacific/Auckland")  # UTC+13: 03:30 on Thursday
    assert (auckland.hour, auckland.weekday) == (3.0, "thu")


def test_cart_lines_read_skus_slugs_ids_and_plain_strings_and_skip_the_rest() -> None:
    context = {"cart": [{"sku": "a", "qty": 2}, {"slug": "b", "name": "B"}, {"id": 7}, "c", 5, {"name": "no sku"},
                        {"sku": "d", "qty": -1}]}
    assert cart_lines(context) == [("a", "", 2.0), ("b", "B", 1.0), ("7", "", 1.0), ("c", "", 1.0), ("d", "", 1.0)]
    assert cart_lines({"cart": "not a list"}) == []
