"""``create_app(settings)`` assembles otodesk; nothing runs at import time.

Lifetimes nest in the lifespan: repository → bus → router client → the
routing service (contending for leadership) → a watcher that re-announces
this process's sockets whenever a new leader is elected.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount, WebSocketRoute
from starlette.templating import Jinja2Templates
from starlette.websockets import WebSocket
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from desktop.cobrowse import routes as cobrowse_routes
from desktop.cobrowse.roles import cobrowse_features
from desktop.cobrowse.shared import contact_ended as cobrowse_contact_ended
from desktop.repository.migrate import upgrade_database_async
from desktop.repository.repository import Repository
from desktop.routing import commands
from desktop.leader.client import RouterClient
from desktop.routing.reachability import PROCESS_HEARTBEAT
from desktop.rooms import SYSTEM_ROOM
from desktop.leader.live_centre import LiveCentre
from desktop.leader.live_rules import LiveRules
from desktop.leader.service import RoutingService
from desktop.settings import Settings
from desktop.voice import http as voice_http
from desktop.suggestions.feedback import SuggestionFeedbackFeature
from desktop.suggestions.live import Suggester
from desktop.aftercall.feature import AfterCallFeature
from desktop.aftercall.mail import Mailer, SmtpConfig
from desktop.voice.feature import VoiceFeature
from desktop.sockets import AgentHandler, CustomerHandler, Presence, SupervisorHandler
from desktop.contacts.privacy import RetentionJob
from desktop.demo import shop
from desktop.web import (
    account, admin, admin_centre, admin_queues, admin_webhooks, api, customer_pages, kb_admin, kb_widget, locales,
    metrics, mydata, pages, reports, second_step, setup, sso,
)
from desktop.web.activity_metrics import QueryTimes
from desktop.web.gc_policy import GcPauses, apply_gc_policy
from desktop.web.origins import LiveCorsMiddleware, allowed_origins
from desktop.web.socket_app import SocketFirstApp
from desktop.web.request_ids import RequestIds
from desktop.web.assets import STATIC_DIR, CompressedStaticFiles, WidgetBuild
from desktop.auth.tokens import Signer
from desktop.auth.totp import SecretBox
from desktop.auth.staff import StaffHeaders
from desktop.webhooks.sender import WebhookSender
from signaling.bus import BusClosed, BusError, SubscriptionLagged, open_bus
from signaling.bus.tasks import awaiting
from signaling.hub import Hub, HubLimits

__all__ = ["create_app"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

log = logging.getLogger(__name__)
HANDOVER_SECONDS = 5.0  # at most, for the router task to let its lease go at a stop



def create_app(settings: Settings) -> Starlette:
    handlers: dict[str, object] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        url = settings.effective_database_url
        await upgrade_database_async(url)
        async with Repository.open(url, query_timer=app.state.query_times.observe) as repo, \
                open_bus(settings.redis_url or None, replay_window=settings.replay_window,
                         namespace=settings.redis_namespace) as bus, \
                RouterClient(bus, settings.process_id) as router:
            if await repo.ensure_default_queue():  # a fresh install: "Call me" works before any set-up
                log.info("no queue yet: created the default queue 'general' (no skills, always open)")
            await setup.offer_first_admin_link(repo, app.state.signer, settings)  # no admin yet: a one-time link
            # The published rules, compiled before the first offer can ring, then followed;
            # the suggester matches them for the desk's cards (within its budget, never failing).
            rules = LiveRules(repo, bus)
            await rules.load()
            # The console's settings (urgent words, the widget's look, its sites), followed live.
            centre = LiveCentre(repo, bus, settings)
            await centre.load()
            app.state.centre = centre
            suggester = Suggester(repo=repo, bus=bus, rules=rules, zone=settings.time_zone,
                                  budget=settings.suggestions_budget)
            # Co-browse access ends with the contact; the leader is told how, not importing co-browse.
            routing = RoutingService(repo=repo, bus=bus, settings=settings, suggester=suggester,
                                     is_urgent=centre.is_urgent,
                                     on_contact_ended=[functools.partial(cobrowse_contact_ended, bus)])
            presence = Presence(router, settings.process_id)
            common = dict(repo=repo, bus=bus, router=router, signer=app.state.signer,
                          settings=settings, presence=presence, suggester=suggester)
            # Features (co-browse, voice...) plug their messages into these roles.
            features: dict[str, tuple] = {"customer": (), "agent": (), "supervisor": ()}
            cobrowse = cobrowse_features(repo=repo, bus=bus, settings=settings)
            features = {role: (*features[role], *cobrowse[role]) for role in features}
            voice = VoiceFeature.create(repo=repo, bus=bus, router=router, settings=settings)
            await voice.start()
            features = {role: (*features[role], voice) for role in features}
            features["agent"] = (*features["agent"], SuggestionFeedbackFeature(repo))
            # After the contact: the summary to the customer's widget and e-mail, rating, "not solved".
            mailer = Mailer(SmtpConfig.from_settings(settings), retry_delay=settings.smtp_retry_delay)
            after_call = AfterCallFeature(repo=repo, bus=bus, router=router, settings=settings, mailer=mailer)
            features["customer"] = (*features["customer"], after_call, centre)  # centre: the widget's look
            features["agent"] = (*features["agent"], after_call)
            handlers.update(customer=CustomerHandler(**common, features=features["customer"]),
                            agent=AgentHandler(**common, features=features["agent"]),
                            supervisor=SupervisorHandler(**common, features=features["supervisor"]))
            app.state.repo, app.state.bus, app.state.routing = repo, bus, routing
            app.state.router = router
            app.state.rules, app.state.suggester = rules, suggester
            app.state.voice = voice
            app.state.mailer = mailer
            app.state.hub = Hub(bus, limits=HubLimits(
                max_message_bytes=settings.max_message_bytes,
                messages_per_second=settings.messages_per_second,
                message_burst=settings.message_burst,
                send_queue_size=settings.send_queue_size,
            ), allowed_origins=centre.origins, public_origins=settings.public_origins)
            routing_task = asyncio.create_task(routing.run(), name="routing")
            tasks = [routing_task,
                     asyncio.create_task(_reannounce_on_new_leader(bus, presence), name="presence"),
                     asyncio.create_task(_heartbeat(router, settings.process_id,
                                                    voice.inbound.lines if voice.inbound.numbers else None), name="heartbeat"),
                     asyncio.create_task(RetentionJob(repo, settings).run(), name="retention"),
                     asyncio.create_task(voice.finish_orphan_recordings(), name="orphan-recordings"),
                     asyncio.create_task(app.state.loop_lag.run(), name="loop-lag"),
                     asyncio.create_task(app.state.rules.run(), name="rules"),
                     asyncio.create_task(centre.run(), name="centre"),
                     # Every process sends: rows are leased in the database (desktop/webhooks/sender.py).
                     asyncio.create_task(WebhookSender.from_settings(repo, settings).run(), name="webhooks")]
            if settings.analytics_interval > 0:  # numpy and scipy load only for the job
                from desktop.leader.analytics_job import AnalyticsSchedule

                tasks.append(asyncio.create_task(AnalyticsSchedule(
                    repo, settings, lambda: routing.is_leader).run(), name="analytics"))
            if settings.history_rollup_interval > 0:
                from desktop.leader.history_rollup_job import HistoryRollupSchedule

                tasks.append(asyncio.create_task(HistoryRollupSchedule(
                    repo, settings, lambda: routing.is_leader).run(), name="history-rollups"))
            # What is loaded by now lives as long as the process: keep it out of the collector's
            # full passes, each a pause of every socket (~50 ms over ~120k objects, seen as p99),
            # and make those passes rarer (desktop/web/gc_policy.py).
            frozen = apply_gc_policy(settings.gc_thresholds)
            log.info("collector: %d start-up objects frozen, thresholds %s", frozen, gc.get_threshold())
            app.state.gc_pauses.install()
            if os.environ.get("OTODESK_TRACEMALLOC") == "1":
                from desktop.web.memory_trace import start_memory_trace

                start_memory_trace()
            try:
                yield
            finally:
                app.state.gc_pauses.uninstall()
                # A stop (SIGTERM): uvicorn has stopped accepting and told every socket to
                # reconnect elsewhere (close code 1012, "service restart"). The routing lease
                # goes first, so another process routes at once; then the calls anchored here
                # may end on their own, within the drain time, before they move. (Alone, with
                # no Redis, no other process could reach them: nothing to wait for.)
                routing_task.cancel()
                # Bounded, as a guard: a hand-over stuck on Redis or the database must not hold the
                # drain and the exit; the lease runs out on its own then. (Seen in CI: the shutdown
                # hung here, because redis-py had dropped the cancel; signaling/bus/tasks.py
                # cancels_kept.) Where the router waits is logged, to name any other culprit.
                _, stuck = await asyncio.wait({routing_task}, timeout=HANDOVER_SECONDS)
                if stuck:
                    log.warning("the router's hand-over did not finish in %.0f s; draining anyway. "
                                "It waits at %s", HANDOVER_SECONDS, awaiting(routing_task))
                if settings.redis_url and voice.anchor.calls:
                    log.info("draining: %d call(s) anchored here, %.0f s at most",
                             len(voice.anchor.calls), settings.drain_seconds)
                    left = await voice.drain(settings.drain_seconds)
                    if left:
                        log.warning("draining: %d call(s) still on; other processes take them over", left)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await presence.aclose()  # the sockets' closes, sent before the bus closes
                await voice.aclose()
                await mailer.aclose()
                await suggester.aclose()

    async def customer_socket(websocket: WebSocket) -> None:
        await websocket.app.state.hub.serve(websocket, handlers["customer"])

    async def agent_socket(websocket: WebSocket) -> None:
        await websocket.app.state.hub.serve(websocket, handlers["agent"])

    async def supervisor_socket(websocket: WebSocket) -> None:
        await websocket.app.state.hub.serve(websocket, handlers["supervisor"])

    static = CompressedStaticFiles(directory=STATIC_DIR)
    routes = [
        *shop.routes,
        *pages.routes, *second_step.routes, *account.routes, *locales.routes, *sso.routes, *metrics.routes, *admin.routes, *admin_queues.routes,
        *admin_webhooks.routes, *admin_centre.routes, *setup.routes,
        *kb_admin.routes,
        *cobrowse_routes.routes,
        *voice_http.routes,
        *api.routes, *mydata.routes, *customer_pages.routes,  # the Customer Contact Repository
        *reports.routes,
        *kb_widget.routes,  # the widget's knowledge base (public: origin and rate checked)
        WebSocketRoute("/ws/customer", customer_socket),
        WebSocketRoute("/ws/agent", agent_socket),
        WebSocketRoute("/ws/supervisor", supervisor_socket),
        # Precompressed copies where set-up made them (the widget, vendor files), gzip on the fly
        # for our own plain modules.
        Mount("/static", app=GZipMiddleware(static, minimum_size=1024), name="static"),
    ]
    middleware = [
        # Outermost: who the client is (behind trusted proxies only), before any limit counts it.
        *([Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))]
          if settings.trusted_proxies else []),
        Middleware(RequestIds),
        Middleware(StaffHeaders),
        # The sites allowed now (the console's list): asked at each request, so no restart.
        Middleware(LiveCorsMiddleware, origins=lambda: allowed_origins(app.state),
                             allow_methods=["GET", "POST", "PATCH"],
                             allow_headers=["content-type", "x-otodesk-visitor", "x-otodesk-me"],
                             expose_headers=["retry-after"]),  # the widget waits as told on 429
    ]
    # The sockets skip the middleware stack, each of whose layers an idle socket would keep
    # suspended for its whole life (desktop/web/socket_app.py).
    app = SocketFirstApp(routes=routes, middleware=middleware, lifespan=lifespan,
                         sockets={"/ws/customer": customer_socket, "/ws/agent": agent_socket,
                                  "/ws/supervisor": supervisor_socket},
                         trusted_proxies=tuple(settings.trusted_proxies))
    app.state.settings = settings
    app.state.loop_lag = metrics.LoopLag()
    app.state.gc_pauses = GcPauses()  # every collector pass timed, for /metrics
    app.state.query_times = QueryTimes()  # every database call, timed for /metrics
    app.state.sso = sso.SsoConfig(settings.oidc_issuer) if settings.oidc_issuer else None
    app.state.metrics = metrics.registry_for(app.state)
    app.state.signer = Signer(settings.secret_key, session_max_age=settings.session_max_age)
    app.state.totp_box = SecretBox(settings.totp_key or settings.secret_key)
    app.state.templates = Jinja2Templates(directory=TEMPLATES_DIR)
    app.state.static, app.state.widget_build = static, WidgetBuild(STATIC_DIR)
    return app


async def _heartbeat(router: RouterClient, process_id: str, lines: Callable[[], list[str]] | None) -> None:
    """Tell the leader this process (and so its sockets) is alive and, if it takes inbound
    calls, the ones it carries (``lines()``): the leader ends theirs if it goes silent."""
    while True:
        try:
            await router.notify(commands.ProcessAlive(process=process_id))
            if lines is not None:
                await router.notify(commands.InboundLines(process=process_id, lines=lines()))
        except Exception:
            log.warning("could not reach the router inbox", exc_info=True)
        await asyncio.sleep(PROCESS_HEARTBEAT)


async def _reannounce_on_new_leader(bus, presence: Presence) -> None:
    """Re-announce this process's sockets whenever a leader is elected, and after missing some
    of the system room (lagged behind it, or the bus down): a leader may have come meanwhile."""
    missed = False
    while True:
        try:
            async with bus.subscribe(SYSTEM_ROOM) as subscription:
                if missed:
                    await presence.reannounce()
                    missed = False
                async for _seq, event in subscription:
                    if event.get("type") == "leader":
                        await presence.reannounce()
        except SubscriptionLagged:
            missed = True
        except BusClosed:
            return
        except BusError:  # Redis unreachable: the sockets are told once it is back
            log.warning("could not follow the router's elections; trying again in 1 s", exc_info=True)
            missed = True
            await asyncio.sleep(1.0)
