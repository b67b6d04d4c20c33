"""The voice legs anchored here, added up for /metrics (desktop/voice/quality.py, LegFigures)."""

from __future__ import annotations

import gc

from desktop.voice.quality import LegFigures


class Leg:  # what LegFigures keys its samples by: any object that lives as long as the leg
    pass


def figures(role="customer", received=0, lost=None, jitter_ms=None, rtt_ms=None) -> dict:
    return {"role": role, "state": "connected", "packets_in": received, "packets_lost": lost,
            "jitter_ms": jitter_ms, "rtt_ms": rtt_ms, "loss": None, "loss_out": None, "browser": {}}


def test_packets_count_each_samples_growth_and_a_remade_leg_counts_from_zero():
    counted, first, again = LegFigures(), Leg(), Leg()
    counted.sample(first, figures(received=100, lost=2))
    counted.sample(first, figures(received=250, lost=5))
    # The customer reloads: a new leg of the same role starts again from zero.
    counted.sample(again, figures(received=40, lost=0))
    assert counted.received == {"customer": 290}
    assert counted.lost == {"customer": 5}


def test_rtcp_loss_going_down_or_unknown_never_takes_packets_back():
    counted, leg = LegFigures(), Leg()
    counted.sample(leg, figures(received=100, lost=4))
    counted.sample(leg, figures(received=150, lost=3))  # a duplicate arrived: cumulative loss fell
    counted.sample(leg, figures(received=200, lost=None))
    counted.sample(leg, figures(received=260, lost=6))
    assert counted.lost == {"customer": 6}
    assert counted.received == {"customer": 260}


def test_jitter_and_round_trip_are_observed_in_seconds_by_role_when_known():
    counted, leg = LegFigures(), Leg()
    counted.sample(leg, figures(role="agent", received=10, jitter_ms=12.0, rtt_ms=None))
    counted.sample(leg, figures(role="agent", received=20, jitter_ms=None, rtt_ms=180.0))
    assert counted.jitter["agent"].count == 1 and counted.jitter["agent"].sum == 0.012
    assert counted.rtt["agent"].count == 1 and counted.rtt["agent"].sum == 0.18
    assert counted.jitter["customer"].count == 0


def test_a_legs_memory_goes_with_the_leg():
    counted = LegFigures()
    counted.sample(Leg(), figures(received=10))
    gc.collect()
    assert len(counted._seen) == 0


def test_concealed_audio_adds_up_from_the_browsers_reports():
    counted = LegFigures()
    counted.browser_report("customer", {"rtt_ms": 20.0, "concealed_ms": 40.0})
    counted.browser_report("customer", {"concealed_ms": None})
    counted.browser_report("customer", {"concealed_ms": 60.0})
    assert counted.concealed == {"customer": 0.1}
