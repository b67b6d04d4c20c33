"""What /metrics counts of the leader's offers (desktop/leader/offer_stats.py)."""

from __future__ import annotations

from desktop.leader.offer_stats import OfferStats
from desktop.routing.events import CallbackQueued, OfferEnded, OfferMade, OfferOutcome

T0 = 1_800_000_000.0


def offer(callback_id: str = "cb1", at: float = T0) -> OfferMade:
    return OfferMade(offer_id=f"o-{callback_id}", callback_id=callback_id, agent_id="a1", at=at, expires_at=at + 20)


def test_an_offer_made_as_its_callback_arrived_is_timed_from_the_call_me():
    stats = OfferStats()
    stats.announced(offer(), arrived_at=T0 - 0.012, now=T0 + 0.003)
    assert stats.made == 1
    assert stats.latency.count == 1
    assert abs(stats.latency.sum - 0.015) < 1e-6  # epoch floats: microsecond precision
    assert stats.latency.counts[2] == 1  # 10 ms < 15 ms <= 25 ms: the third bucket


def test_a_later_offer_counts_but_is_not_timed_and_a_skewed_clock_never_times_negative():
    stats = OfferStats()
    stats.announced(offer("cb2"), arrived_at=None, now=T0)
    stats.announced(offer("cb3"), arrived_at=T0 + 0.5, now=T0)  # the customer's process runs ahead
    assert stats.made == 2
    assert stats.latency.count == 1 and stats.latency.sum == 0.0


def test_ended_offers_are_counted_by_outcome_and_other_events_are_ignored():
    stats = OfferStats()
    for outcome in (OfferOutcome.ACCEPTED, OfferOutcome.DECLINED, OfferOutcome.DECLINED):
        stats.announced(OfferEnded(offer_id="o", callback_id="cb", agent_id="a1", outcome=outcome, at=T0),
                        arrived_at=None, now=T0)
    stats.announced(CallbackQueued(callback_id="cb", queue="sales", at=T0), arrived_at=T0, now=T0)
    assert dict(stats.ended) == {"accepted": 1, "declined": 2}
    assert stats.made == 0 and stats.latency.count == 0
