"""What an operator's monitoring reads: ``/readyz`` (the database and the bus answer) and
``/metrics`` in Prometheus's text format (prometheus-client).

The figures are read from live state when Prometheus scrapes (a collector), so nothing on the
hot paths pays for them: this process's sockets by role, the event loop's lag, whether it leads
and, on the leader, the router's view of every queue and agent. What the process has done
(messages, publishes, database calls, offers, calls) is counted in place where the work happens
and read the same way (:mod:`desktop.web.activity_metrics`). ``/healthz`` stays the cheap
liveness answer (is the process serving at all). docs/operations.md lists every metric.

``/metrics`` is for the monitoring system, not the public: with ``OTODESK_METRICS_TOKEN`` set it
needs ``Authorization: Bearer <token>``; without one it answers only clients on this machine.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import ipaddress
import logging
import time

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.auth.tokens import tokens_equal
from desktop.web.activity_metrics import ActivityCollector
from desktop.web.gc_policy import tracked_objects
from desktop.web.object_census import census, examples
from desktop.rooms import SYSTEM_ROOM

__all__ = ["routes", "LoopLag", "registry_for"]

log = logging.getLogger(__name__)

READY_TIMEOUT = 2.0  # seconds each dependency may take to answer /readyz


class LoopLag:
    """How late the event loop runs a timer: the time every socket waits behind a slow task."""

    INTERVAL = 0.5  # seconds between probes

    def __init__(self) -> None:
        self.last = 0.0
        self.worst = 0.0  # since the last scrape

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(self.INTERVAL)
            self.last = max(0.0, loop.time() - started - self.INTERVAL)
            self.worst = max(self.worst, self.last)

    def take_worst(self) -> float:
        worst, self.worst = self.worst, self.last
        return worst


class _LiveState:
    """A prometheus collector over ``app.state``: read at scrape time."""

    def __init__(self, state) -> None:
        self.state = state

    def collect(self):
        state = self.state
        hub = getattr(state, "hub", None)
        sockets = GaugeMetricFamily("otodesk_sockets", "Open websockets on this process, by role", labels=["role"])
        by_role = collections.Counter(session.role for session in (hub.sessions if hub else ()))
        for role in ("customer", "agent", "supervisor"):
            sockets.add_metric([role], by_role.get(role, 0))
        yield sockets

        lag = getattr(state, "loop_lag", None)
        if lag is not None:
            yield GaugeMetricFamily("otodesk_event_loop_lag_seconds",
                                    "Worst lateness of the event loop since the last scrape", value=lag.take_worst())

        pauses = getattr(state, "gc_pauses", None)
        if pauses is not None:
            # Each pass of the collector stops every socket of the process (desktop/web/gc_policy.py).
            count = CounterMetricFamily("otodesk_gc_passes", "Collector passes, by generation", labels=["generation"])
            seconds = CounterMetricFamily("otodesk_gc_pause_seconds", "Time the collector stopped the process, by generation",
                                          labels=["generation"])
            worst = GaugeMetricFamily("otodesk_gc_worst_pause_seconds",
                                      "The longest collector pass since the last scrape, by generation", labels=["generation"])
            for generation, longest in enumerate(pauses.take_worst()):
                count.add_metric([str(generation)], pauses.passes[generation])
                seconds.add_metric([str(generation)], pauses.seconds[generation])
                worst.add_metric([str(generation)], longest)
            yield count
            yield seconds
            yield worst
        if getattr(state, "count_gc_objects", False):
            objects = GaugeMetricFamily("otodesk_gc_objects", "Objects the collector tracks, by generation "
                                        "(permanent: frozen at start-up)", labels=["generation"])
            for generation, number in tracked_objects().items():
                objects.add_metric([generation], number)
            yield objects

        suggester = getattr(state, "suggester", None)
        if suggester is not None:
            # How the desk's suggestions went on this process: matched, or fell back (and why).
            suggestions = CounterMetricFamily("otodesk_suggestions", "Suggestion matches for cards, by outcome",
                                              labels=["outcome"])
            for outcome in ("matched", "fallback_over_budget", "fallback_match_over_budget", "fallback_error",
                            "rule_errors"):
                suggestions.add_metric([outcome], suggester.counts.get(outcome, 0))
            yield suggestions
            rules = getattr(state, "rules", None)
            if rules is not None:
                yield GaugeMetricFamily("otodesk_rules_version", "The published rules version live on this process",
                                        value=rules.current().version)

        routing = getattr(state, "routing", None)
        term = routing.term if routing is not None else None
        yield GaugeMetricFamily("otodesk_leader", "1 when this process runs the router", value=int(term is not None))
        if term is None:
            return  # the queues and agents are the leader's to tell (one series per cluster)
        yield GaugeMetricFamily("otodesk_leader_epoch", "The router lease's epoch (grows with every new leader)",
                                value=term.lead.epoch)
        router, now = term.router, time.time()
        waiting = GaugeMetricFamily("otodesk_queue_waiting", "Customers waiting, by queue", labels=["queue"])
        longest = GaugeMetricFamily("otodesk_queue_longest_wait_seconds", "The longest wait now, by queue",
                                    labels=["queue"])
        for config in router.queues():
            view = router.queue_view(config.name, now)
            waiting.add_metric([config.name], view.waiting)
            longest.add_metric([config.name], view.longest_wait or 0.0)
        yield waiting
        yield longest
        agents = GaugeMetricFamily("otodesk_agents", "Agents known to the router, by state", labels=["state"])
        for agent_state, count in sorted(collections.Counter(str(a.state) for a in router.agents()).items()):
            agents.add_metric([agent_state], count)
        yield agents


def registry_for(state) -> CollectorRegistry:
    """One registry per app (tests make many apps in one process), with the process's own figures."""
    registry = CollectorRegistry(auto_describe=False)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    registry.register(_LiveState(state))
    registry.register(ActivityCollector(state))
    return registry


def _may_scrape(request: Request) -> bool:
    token = request.app.state.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        return given.startswith("Bearer ") and tokens_equal(token, given[len("Bearer "):])
    try:
        return ipaddress.ip_address(request.client.host if request.client else "").is_loopback
    except ValueError:
        return False


async def metrics(request: Request) -> Response:
    if not _may_scrape(request):
        return JSONResponse({"error": "forbidden", "message": "set OTODESK_METRICS_TOKEN and send it as a "
                             "bearer token, or scrape from this machine"}, status_code=403)
    # ?gc_objects=1 also counts the collector's objects: a walk of every object (tens of ms
    # with 10,000 sockets), for an operator asking once, not for every scrape. =collect runs a
    # full pass first (a pause of every socket, ~1 s with 6,000), so garbage not yet collected
    # is not counted: what a leak hunt compares.
    state = request.app.state
    asked = request.query_params.get("gc_objects")
    if asked == "collect":
        gc.collect()
    state.count_gc_objects = asked in ("1", "collect")
    try:
        return Response(generate_latest(state.metrics), media_type=CONTENT_TYPE_LATEST)
    finally:
        state.count_gc_objects = False


async def gc_census(request: Request) -> Response:
    """The objects the collector tracks by ``kind | owner`` (desktop/web/object_census.py),
    after a full pass: seconds of pause with many sockets, for an operator or a bench asking."""
    if not _may_scrape(request):
        return JSONResponse({"error": "forbidden", "message": "as /metrics"}, status_code=403)
    if "examples" in request.query_params:
        limit = request.query_params.get("limit", "5")
        if not limit.isdigit():
            return JSONResponse({"error": "bad_request", "message": "limit must be a whole number"}, status_code=400)
        return JSONResponse(examples(request.query_params["examples"], int(limit)))
    counts = census()
    return JSONResponse({f"{kind} | {owner}": n for (kind, owner), n in counts.most_common()})


async def readyz(request: Request) -> Response:
    """200 when this process can serve: its database and its bus (Redis) both answer."""
    state = request.app.state
    checks = {"database": state.repo.list_queues(), "bus": state.bus.last_seq(SYSTEM_ROOM)}
    results: dict[str, str] = {}
    for name, probe in checks.items():
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                await probe
            results[name] = "ok"
        except Exception as exc:  # any failure means "not ready"; say which and why
            log.warning("readyz: %s failed: %s", name, exc)
            results[name] = f"failed: {type(exc).__name__}"
    ready = all(value == "ok" for value in results.values())
    return JSONResponse({"ready": ready, **results}, status_code=200 if ready else 503)


routes = [Route("/metrics", metrics), Route("/metrics/gc_census", gc_census), Route("/readyz", readyz)]
