"""How the in-place counts become Prometheus text (desktop/web/activity_metrics.py)."""

from __future__ import annotations

import collections
from types import SimpleNamespace

from prometheus_client import CollectorRegistry, generate_latest

from desktop.web.activity_metrics import ActivityCollector, QueryTimes, histogram_family
from signaling.stats import Histogram


class One:
    def __init__(self, *families):
        self.families = families

    def collect(self):
        return self.families


def text(*families) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(One(*families))
    return generate_latest(registry).decode()


def test_a_histogram_becomes_cumulative_buckets_with_le_sum_and_count():
    fast, slow = Histogram((0.001, 0.01)), Histogram((0.001, 0.01))
    for value in (0.0005, 0.002, 0.002):
        fast.observe(value)
    slow.observe(5.0)
    out = text(histogram_family("otodesk_x_seconds", "X", {("read",): fast, ("write",): slow}, ("kind",)))
    assert 'otodesk_x_seconds_bucket{kind="read",le="0.001"} 1.0' in out
    assert 'otodesk_x_seconds_bucket{kind="read",le="0.01"} 3.0' in out
    assert 'otodesk_x_seconds_bucket{kind="read",le="+Inf"} 3.0' in out
    assert 'otodesk_x_seconds_count{kind="read"} 3.0' in out
    assert 'otodesk_x_seconds_bucket{kind="write",le="0.01"} 0.0' in out
    assert 'otodesk_x_seconds_sum{kind="write"} 5.0' in out


def test_a_state_without_the_parts_yields_nothing_and_the_query_times_split_by_kind():
    assert list(ActivityCollector(SimpleNamespace()).collect()) == []
    times = QueryTimes()
    times.observe("read", 0.002)
    times.observe("write", 0.02)
    times.observe("write", 0.03)
    out = text(*ActivityCollector(SimpleNamespace(query_times=times)).collect())
    assert 'otodesk_db_query_seconds_count{kind="read"} 1.0' in out
    assert 'otodesk_db_query_seconds_count{kind="write"} 2.0' in out


def test_hub_counts_list_the_fixed_reasons_at_zero_and_name_an_untyped_message():
    handled = Histogram((0.01, 0.1))
    handled.observe(0.05)
    hub = SimpleNamespace(received_by_type=lambda: {"call_me": 2}, sent=collections.Counter({"ack": 3, None: 1}),
                          refused=collections.Counter({"rate_limited": 4}),
                          handled_by_type=lambda: {"call_me": handled})
    out = text(*ActivityCollector(SimpleNamespace(hub=hub)).collect())
    assert 'otodesk_ws_messages_received_total{type="call_me"} 2.0' in out
    assert 'otodesk_ws_messages_sent_total{type="unknown"} 1.0' in out
    assert 'otodesk_ws_frames_refused_total{reason="invalid"} 0.0' in out
    assert 'otodesk_ws_frames_refused_total{reason="rate_limited"} 4.0' in out
    assert 'otodesk_ws_message_seconds_bucket{le="0.01",type="call_me"} 0.0' in out
    assert 'otodesk_ws_message_seconds_bucket{le="0.1",type="call_me"} 1.0' in out
