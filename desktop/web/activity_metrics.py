"""What this process has done, for ``/metrics``: websocket messages by type, bus publishes,
database calls, offers (on the leader) and the voice calls anchored here.

The figures are counted in place where the work happens (plain counters and the few-bucket
histograms of :mod:`signaling.stats`) and turned into Prometheus families only when scraped.
Labels are only ever small fixed sets (a message type, a role, an outcome), never an id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from desktop.routing.events import OfferOutcome
from signaling.stats import Histogram

__all__ = ["ActivityCollector", "QueryTimes", "histogram_family"]

#: Upper bounds (seconds) of the database-call buckets: a routing batch on SQLite takes ~1 ms,
#: on PostgreSQL ~3 ms; a report's reads up to a fraction of a second.
QUERY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
VOICE_ROLES = ("customer", "agent", "supervisor")


class QueryTimes:
    """The repository's ``query_timer``: seconds of each call, by kind ("read" or "write")."""

    def __init__(self) -> None:
        self.kinds = {"read": Histogram(QUERY_BUCKETS), "write": Histogram(QUERY_BUCKETS)}

    def observe(self, kind: str, seconds: float) -> None:
        self.kinds[kind].observe(seconds)


def histogram_family(name: str, documentation: str, histograms: Mapping[tuple[str, ...], Histogram],
                     labels: tuple[str, ...] = ()) -> HistogramMetricFamily:
    """One Prometheus histogram family of ``histograms`` (label values -> histogram)."""
    family = HistogramMetricFamily(name, documentation, labels=list(labels))
    for values, histogram in histograms.items():
        family.add_metric(list(values), [(floatToGoString(bound), count) for bound, count in histogram.cumulative()],
                          sum_value=histogram.sum)
    return family


def _counter(name: str, documentation: str, label: str, counts: Mapping[str, float],
             always: tuple[str, ...] = ()) -> CounterMetricFamily:
    """A counter family by one label: ``always`` listed even at zero, then whatever else counted."""
    family = CounterMetricFamily(name, documentation, labels=[label])
    for value in (*always, *sorted(set(counts) - set(always))):
        family.add_metric([value], counts.get(value, 0))
    return family


class ActivityCollector:
    """A prometheus collector over ``app.state`` (its hub, bus, routing and voice, and the
    ``query_times`` the app hands its repository), read at scrape time."""

    def __init__(self, state) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        state = self.state
        hub = getattr(state, "hub", None)
        if hub is not None:
            yield from self._hub(hub)
        bus = getattr(state, "bus", None)
        if bus is not None:
            yield from self._bus(bus)
        times = getattr(state, "query_times", None)
        if times is not None:
            yield histogram_family("otodesk_db_query_seconds", "Database calls (one transaction each) as their "
                                   "caller waited for them, by kind", {(kind,): h for kind, h in times.kinds.items()},
                                   ("kind",))
        routing = getattr(state, "routing", None)
        if routing is not None:
            yield from self._offers(routing.offers)
            yield from self._commands(routing.commands)
        voice = getattr(state, "voice", None)
        if voice is not None:
            yield from self._voice(voice)

    def _hub(self, hub) -> Iterator[Metric]:
        yield _counter("otodesk_ws_messages_received", "Valid websocket messages received, by type", "type",
                       hub.received_by_type())
        yield histogram_family("otodesk_ws_message_seconds", "Time each handled websocket message took, from "
                               "its frame read to its reply queued, by type",
                               {(kind,): h for kind, h in sorted(hub.handled_by_type().items())}, ("type",))
        sent = {str(kind or "unknown"): count for kind, count in hub.sent.items()}
        yield _counter("otodesk_ws_messages_sent", "Websocket messages queued to sockets, by type", "type", sent)
        yield _counter("otodesk_ws_frames_refused", "Websocket frames refused before any handler, by reason",
                       "reason", hub.refused, always=("invalid", "rate_limited"))

    def _bus(self, bus) -> Iterator[Metric]:
        stats = bus.stats
        yield histogram_family("otodesk_bus_publish_seconds", "Time each bus publish took (memory: in-process "
                               "fan-out; Redis: the round trip)", {(): stats.publish})
        yield CounterMetricFamily("otodesk_bus_subscriptions_lagged", "Bus subscriptions that fell too far behind "
                                  "and had to resync (SubscriptionLagged)", value=stats.lagged)
        yield GaugeMetricFamily("otodesk_bus_subscription_backlog_events", "The most events one bus subscription "
                                "of this process holds unread now", value=bus.backlog())

    def _offers(self, offers) -> Iterator[Metric]:
        yield CounterMetricFamily("otodesk_offers_made", "Offers announced to agents while this process led",
                                  value=offers.made)
        yield _counter("otodesk_offers_ended", "Offers ended while this process led, by outcome", "outcome",
                       offers.ended, always=tuple(str(outcome) for outcome in OfferOutcome))
        yield histogram_family("otodesk_offer_latency_seconds", "From a customer's call_me to its offer announced "
                               "to the agent, for callbacks offered as they arrived", {(): offers.latency})

    def _commands(self, commands) -> Iterator[Metric]:
        yield histogram_family("otodesk_router_command_wait_seconds", "From a router command's sending to the "
                               "leader taking it up (its wait in the inbox)", {(): commands.waited})
        yield histogram_family("otodesk_router_command_seconds", "Time the leader took to apply each router "
                               "command, by command", {(name,): h for name, h in sorted(commands.took.items())},
                               ("command",))

    def _voice(self, voice) -> Iterator[Metric]:
        calls = GaugeMetricFamily("otodesk_voice_calls", "Voice calls anchored on this process, by kind",
                                  labels=["kind"])
        phone = sum(1 for call in list(voice.anchor.calls.values()) if call.phone is not None)
        calls.add_metric(["browser"], len(voice.anchor.calls) - phone)
        calls.add_metric(["phone"], phone)
        yield calls
        figures = voice.leg_figures
        yield _counter("otodesk_voice_packets_received", "RTP packets the anchor received on its legs, by role "
                       "(sampled every 2 s)", "role", figures.received, always=VOICE_ROLES)
        yield _counter("otodesk_voice_packets_lost", "RTP packets sent to the anchor that never came, by role "
                       "(sampled every 2 s)", "role", figures.lost, always=VOICE_ROLES)
        yield histogram_family("otodesk_voice_leg_jitter_seconds", "Jitter of what the anchor receives, one "
                               "observation a leg every 2 s, by role",
                               {(role,): figures.jitter[role] for role in VOICE_ROLES}, ("role",))
        yield histogram_family("otodesk_voice_leg_rtt_seconds", "Round-trip time to the browser (its RTCP "
                               "reports), one observation a leg every 2 s, by role",
                               {(role,): figures.rtt[role] for role in VOICE_ROLES}, ("role",))
        yield _counter("otodesk_voice_concealed_seconds", "Audio the browsers on calls anchored here concealed "
                       "(their own reports), by role", "role", figures.concealed, always=VOICE_ROLES)
