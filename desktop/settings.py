"""One Settings object, read from OTODESK_* environment variables.

Nothing here runs at import time; call :func:`Settings.from_env` (or build a
``Settings`` directly in tests) and pass it to ``create_app``.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path

from desktop.customers.url_privacy import KNOWN_PRIVATE_PARAMS, URL_QUERY_MODES

__all__ = ["Settings", "DEFAULT_URGENT_WORDS", "WIDGET_LOCALES"]

#: The languages the customer widget speaks (its catalogues: static/widget/messages-<locale>.js).
WIDGET_LOCALES = ("en", "zh-CN", "zh-TW")

DEFAULT_URGENT_WORDS = (
    "urgent", "asap", "immediately", "emergency", "angry", "furious", "unacceptable",
    "complaint", "cancel my account", "refund", "lawyer", "terrible", "worst",
)


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"OTODESK_{name}", default)


def _float(name: str, default: float) -> float:
    value = _env(name)
    return float(value) if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value not in (None, "") else default


def _bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _list(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = _env(name)
    if value in (None, ""):
        return default
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _pairs(name: str) -> dict[str, str]:
    """``a=x,b=y`` as {"a": "x", "b": "y"}; a part without ``=`` is a mistake worth stopping for."""
    pairs = {}
    for part in _list(name, ()):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"OTODESK_{name}: {part!r} is not name=value")
        pairs[key.strip()] = value.strip()
    return pairs


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = Path("var")
    #: SQLAlchemy async URL; empty means a SQLite file in ``var_dir``.
    database_url: str = ""
    #: ``redis://...`` to run many processes; empty means one process, in-memory bus.
    redis_url: str = ""
    #: Prefix of every Redis key, so several deployments (or test runs) can share one server.
    redis_namespace: str = "otodesk"
    #: Signs agent session cookies and customer visitor tokens.
    secret_key: str = ""
    #: Extra origins allowed to open websockets (the app's own origin always is).
    allowed_origins: tuple[str, ...] = ()
    #: The origins people reach this deployment at (``https://desk.example.com``): behind a proxy,
    #: the app's own origin for the websocket check. Empty: the ``Host`` header names it.
    public_origins: tuple[str, ...] = ()
    #: Single sign-on for staff through an OpenID Connect provider (desktop/web/sso.py): its
    #: issuer URL (empty: local passwords only), this app's client id and secret there, the
    #: button's label, which groups give which role ("group=role" pairs), and the claims that
    #: carry the groups and the skills.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_name: str = "company account"
    oidc_roles: dict[str, str] = dataclasses.field(default_factory=dict)
    oidc_groups_claim: str = "groups"
    oidc_skills_claim: str = "otodesk_skills"
    #: Bearer token Prometheus sends to /metrics; empty: only clients on this machine may scrape.
    metrics_token: str = ""
    #: Where customer phone numbers without a + are assumed to be: the contact centre's own country.
    default_region: str = "US"
    #: Countries (ISO codes) whose numbers are called back; empty: only ``default_region``'s;
    #: ``*``: any (premium-rate and shared-cost numbers are refused whatever this says).
    phone_countries: tuple[str, ...] = ()
    #: When a customer's phone may ring, in the number's local time, every day (``HH:MM-HH:MM``;
    #: empty or ``*``: any time); a queue's own (admin console) overrides it. docs/voice.md.
    calling_hours: str = "08:00-21:00"
    #: The site's identity-verification secret: ``otodesk.identify({userId, userHash})``
    #: links records only when userHash = hex HMAC-SHA256(secret, userId). Empty: never.
    identity_secret: str = ""
    #: Days raw browsing trails (page views) are kept; 0 keeps them forever.
    retention_days: float = 0.0
    #: Seconds between two runs of the retention job.
    retention_interval: float = 3600.0
    #: Seconds between scheduled analytics runs on the leader process; 0: only ``otodesk analytics run``.
    analytics_interval: float = 0.0
    #: Days in one analytics period (RFM, tiers; a tier falling between two periods is attrition).
    analytics_period_days: float = 365.0
    #: ``thresholds:platinum=1000000,gold=200000,silver=50000`` (minor units) or
    #: ``quantiles:platinum=0.01,gold=0.05,silver=0.2`` (top shares); empty: the thresholds shown.
    analytics_tiers: str = ""
    #: Association rules: minimum support (share of orders) and lift.
    analytics_min_support: float = 0.01
    analytics_min_lift: float = 1.0
    #: The contact centre's time zone (IANA name): the reports' hours, days and weeks, the queues'
    #: business hours and the rules' ``hour`` and ``weekday`` are its own, not the server's.
    time_zone: str = "UTC"
    #: Seconds: a callback given up sooner is a short abandon, apart from the abandons.
    short_abandon: float = 10.0
    #: Seconds after its time a scheduled callback may be answered and still count as kept.
    schedule_grace: float = 300.0
    #: Seconds between two passes of the history rollups on the leader (the reports' sums for
    #: closed periods); 0: none are made and reports read every row.
    history_rollup_interval: float = 300.0
    #: Reports read the rollups where they can (off: every row, e.g. to compare).
    history_rollups: bool = True
    #: ``otodesk demo`` also generates a year of orders and five weeks of contacts (for the
    #: analytics and the reports); tests turn it off to start from the hand-made demo only.
    demo_history: bool = True

    # Suggestions (the business rules on the desk; desktop/suggestions/).
    #: An order within this many days of an accepted suggestion for its product is attributed to it.
    rules_attribution_days: float = 14.0
    #: Seconds a card's suggestions may take (snapshot, history, match) before the last ones stand.
    suggestions_budget: float = 0.1

    # Routing, all durations in seconds.
    offer_timeout: float = 20.0
    wrapup_timeout: float = 60.0
    away_on_missed_offer: bool = True
    abandon_grace: float = 60.0
    #: An agent whose last socket closed stays logged in this long (a tab reload).
    agent_reconnect_grace: float = 30.0
    #: Webhooks (docs/operations.md): seconds a receiver has to answer; seconds between looks
    #: for due deliveries; the first retry's delay and the longest (seconds); attempts before
    #: a delivery is given up; whether loopback and private addresses may receive.
    webhook_timeout: float = 10.0
    webhook_poll: float = 1.0
    webhook_backoff: float = 10.0
    webhook_backoff_cap: float = 6 * 3600.0
    webhook_max_attempts: int = 15
    webhook_allow_private: bool = False
    urgent_words: tuple[str, ...] = DEFAULT_URGENT_WORDS

    # Limits on what a stranger may send.
    max_message_bytes: int = 64 * 1024
    messages_per_second: float = 20.0
    message_burst: int = 60
    callme_per_phone: int = 3
    callme_window: float = 600.0
    #: Callback requests (phone and browser) from one client address, and phone callbacks
    #: queued for the whole site, per ``callme_window``: minted visitor tokens can't multiply them.
    callme_per_address: int = 10
    phone_callbacks_per_site: int = 200
    #: New visitor tokens per client address per minute (POST /api/visitor). Only tokens
    #: issued count (a refused request costs nothing); one office behind a NAT shares it.
    new_visitors_per_minute: int = 600
    #: Proxies (addresses or CIDR networks, "*" for any) whose X-Forwarded-For and
    #: X-Forwarded-Proto are believed; empty: the peer's address is the client's.
    trusted_proxies: tuple[str, ...] = ()
    #: Open customer sockets per visitor in one process (tabs of one browser); what a
    #: visitor's sockets may store (page views, identify, context) per minute, all processes.
    sockets_per_visitor: int = 8
    visitor_events_per_minute: int = 60
    #: Knowledge-base reads (suggestions, articles, answers) a client address may make a minute.
    kb_reads_per_minute: int = 120
    #: Remote ICE candidates in private ranges (10/8, 172.16/12, 192.168/16, fc00::/7, CGNAT)
    #: the media anchor may send to, as CIDR networks ("*": all private ranges); loopback,
    #: link-local, multicast, unspecified and the server's own addresses never are.
    voice_private_candidates: tuple[str, ...] = ()

    # Staff sessions and sign-in.
    #: Seconds a desk sign-in lasts (one long shift); POST /logout ends it at once.
    session_max_age: float = 12 * 3600.0
    #: Failed sign-ins per account and per client address per ``login_window`` seconds
    #: before sign-in is refused (with when to retry) for that account or address.
    login_failures_per_account: int = 10
    login_failures_per_address: int = 30
    login_window: float = 900.0
    #: Seals the second factors' secrets and keys their recovery codes' digests
    #: (desktop/auth/totp.py); empty: derived from ``secret_key`` (changing that then resets them).
    totp_key: str = ""
    #: The name authenticator apps show beside the account.
    totp_issuer: str = "otodesk"
    #: Roles whose local-password accounts must have a second factor: sent to enrolment
    #: after their password until they have one (SSO accounts: their provider's business).
    require_totp: tuple[str, ...] = ()

    # Hub.
    send_queue_size: int = 256
    heartbeat_interval: float = 15.0
    replay_window: int = 500

    # Voice (signaling/media). ICE servers as the browser's RTCIceServer list:
    # [{"urls": "turn:turn.example.com:3478", "username": "...", "credential": "..."}].
    # Empty: host candidates only (a LAN). Never aiortc's default public STUN.
    ice_servers: tuple[dict, ...] = ()
    #: Calls one process anchors at most; more are refused with ``capacity``.
    voice_max_calls: int = 100
    #: Queues whose calls are recorded ("*": all), into ``var_dir/recordings``.
    voice_recording: tuple[str, ...] = ()
    #: A SIP trunk for phone callbacks (docs/voice.md, "Phone calls"). Empty ``sip_uri``: no
    #: trunk, and the agent dials phone callbacks by hand. ``sip:host[:port]`` of the
    #: provider's proxy/registrar; digest credentials; the caller ID presented (E.164, a
    #: number the contact centre owns); G.711 codecs in order of preference; udp, tcp or tls
    #: (empty: from the URI); for TLS the CA file (empty: the system's) and, labs only, no
    #: verification at all; SDES-SRTP off, optional or required (empty: optional over TLS);
    #: seconds between REGISTERs (0: a trunk that authenticates each call and takes no
    #: REGISTER) and before a failed one is tried again; the address SIP and RTP use (empty: the one routed towards the proxy)
    #: and SIP's port (0: any); RTP ports as "low-high".
    sip_uri: str = ""
    sip_username: str = ""
    sip_password: str = ""
    sip_caller_id: str = ""
    sip_codecs: tuple[str, ...] = ("PCMU", "PCMA")
    sip_transport: str = ""
    sip_tls_ca_file: str = ""
    sip_tls_insecure_no_verify: bool = False
    sip_srtp: str = ""
    sip_register_expires: int = 300
    sip_register_retry: float = 30.0
    sip_local_host: str = ""
    sip_local_port: int = 0
    sip_rtp_ports: str = "20000-30000"
    #: Seconds a phone rings before the call is cancelled (CANCEL) and counted "no answer".
    sip_ring_timeout: float = 25.0
    #: Inbound calls: the numbers callers dial (E.164, the INVITE's Request-URI) and the queue
    #: each enters, as ("+442079460000", "general") pairs; a number not listed is refused (404).
    sip_inbound: tuple[tuple[str, str], ...] = ()
    #: Seconds of hold music between two offers to a waiting caller of "press 1 to be called
    #: back" (the first right after the greeting); 0: never offered.
    sip_callback_offer: float = 40.0
    #: Phone calls (both ways) one process carries; beyond, an inbound call gets 503 and a
    #: callback is not dialled (a refused attempt, retried). 0: no limit but the anchor's.
    sip_max_calls: int = 50
    #: A phone callback that was busy, not answered or failed is tried again after
    #: ``phone_retry_delay`` seconds, ``phone_max_attempts`` attempts in all.
    phone_retry_delay: float = 300.0
    phone_max_attempts: int = 3
    #: Per queue, ``queue:delay:attempts`` (e.g. ``sales:120:5``); other queues use the two above.
    phone_retry_queues: tuple[str, ...] = ()
    #: What the customer is told of a supervisor on their call: "barge" (only when one joins
    #: the conversation; listening and coaching are silent) or "all" (also while one listens).
    supervisor_notice: str = "barge"
    #: Sites (page origins, or "*") where an agent may ask for remote control of a
    #: co-browsed page; empty: nowhere (desktop/cobrowse/control.py).
    cobrowse_remote_control: tuple[str, ...] = ()
    #: Query strings of page URLs in the trail and the mirror (desktop/customers/url_privacy.py):
    #: "mask" the values of ``url_private_params``, "strip" the whole query, or "keep".
    url_query: str = "mask"
    url_private_params: tuple[str, ...] = KNOWN_PRIVATE_PARAMS
    #: The widget's language for every customer (one of WIDGET_LOCALES) unless the page says
    #: (data-locale, otodesk.setLocale); empty: each customer's browser language.
    widget_locale: str = ""

    # After the contact (desktop/aftercall): how long the widget offers the summary, the rating
    # and "Not solved" (seconds), and the SMTP server the summary is e-mailed through (no host:
    # no e-mail). STARTTLS and a login are optional.
    after_call_window: float = 7 * 24 * 3600.0
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = ""
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: float = 10.0
    #: Seconds before a failed e-mail is tried again (then 4x as long, 4 attempts in all).
    smtp_retry_delay: float = 5.0

    # Many processes.
    leader_lease: float = 5.0
    process_id: str = ""
    #: On SIGTERM: seconds a process keeps anchoring the calls it carries (its sockets have
    #: moved on at once) before it lets another process take them over (docs/operations.md).
    drain_seconds: float = 25.0
    #: The cyclic collector's thresholds once start-up is frozen (gc.set_threshold; None:
    #: CPython's 700, 10, 10). A bigger young generation means fewer promotions, so fewer full
    #: passes over every socket's objects; the full passes' own rule stays CPython's, or the
    #: cycles of closed sockets would pile up (docs/operations.md, desktop/web/gc_policy.py).
    gc_thresholds: tuple[int, int, int] | None = (10_000, 10, 10)

    @property
    def callable_countries(self) -> tuple[str, ...]:
        """The countries phone callbacks may go to: ``phone_countries``, else the centre's own."""
        return self.phone_countries or (self.default_region.upper(),)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / 'otodesk.db'}"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        var_dir = Path(_env("VAR_DIR", "var"))
        values = dict(
            host=_env("HOST", "127.0.0.1"),
            port=_int("PORT", 8000),
            var_dir=var_dir,
            database_url=_env("DATABASE_URL", ""),
            redis_url=_env("REDIS_URL", ""),
            redis_namespace=_env("REDIS_NAMESPACE", "otodesk"),
            secret_key=_env("SECRET_KEY", "") or stored_secret(var_dir),
            allowed_origins=_list("ALLOWED_ORIGINS", ()),
            public_origins=_list("PUBLIC_ORIGINS", ()),
            metrics_token=_env("METRICS_TOKEN", ""),
            oidc_issuer=_env("OIDC_ISSUER", ""),
            oidc_client_id=_env("OIDC_CLIENT_ID", ""),
            oidc_client_secret=_env("OIDC_CLIENT_SECRET", ""),
            oidc_name=_env("OIDC_NAME", "company account"),
            oidc_roles=_pairs("OIDC_ROLES"),
            oidc_groups_claim=_env("OIDC_GROUPS_CLAIM", "groups"),
            oidc_skills_claim=_env("OIDC_SKILLS_CLAIM", "otodesk_skills"),
            default_region=_env("DEFAULT_REGION", "US").upper(),
            phone_countries=tuple(c.upper() for c in _list("PHONE_COUNTRIES", ())),
            calling_hours=_calling_hours(_env("CALLING_HOURS", "08:00-21:00") or ""),
            identity_secret=_env("IDENTITY_SECRET", ""),
            retention_days=_float("RETENTION_DAYS", 0.0),
            retention_interval=_float("RETENTION_INTERVAL", 3600.0),
            analytics_interval=_float("ANALYTICS_INTERVAL", 0.0),
            analytics_period_days=_float("ANALYTICS_PERIOD_DAYS", 365.0),
            analytics_tiers=_env("ANALYTICS_TIERS", "") or "",
            analytics_min_support=_float("ANALYTICS_MIN_SUPPORT", 0.01),
            analytics_min_lift=_float("ANALYTICS_MIN_LIFT", 1.0),
            rules_attribution_days=_float("RULES_ATTRIBUTION_DAYS", 14.0),
            suggestions_budget=_float("SUGGESTIONS_BUDGET", 0.1),
            time_zone=_zone(_env("TIMEZONE", "") or "UTC"),
            short_abandon=_float("SHORT_ABANDON", 10.0),
            schedule_grace=_float("SCHEDULE_GRACE", 300.0),
            history_rollup_interval=_float("HISTORY_ROLLUP_INTERVAL", 300.0),
            history_rollups=_bool("HISTORY_ROLLUPS", True),
            demo_history=_bool("DEMO_HISTORY", True),
            offer_timeout=_float("OFFER_TIMEOUT", 20.0),
            wrapup_timeout=_float("WRAPUP_TIMEOUT", 60.0),
            away_on_missed_offer=_bool("AWAY_ON_MISSED_OFFER", True),
            abandon_grace=_float("ABANDON_GRACE", 60.0),
            agent_reconnect_grace=_float("AGENT_RECONNECT_GRACE", 30.0),
            webhook_timeout=_float("WEBHOOK_TIMEOUT", 10.0),
            webhook_poll=_float("WEBHOOK_POLL", 1.0),
            webhook_backoff=_float("WEBHOOK_BACKOFF", 10.0),
            webhook_backoff_cap=_float("WEBHOOK_BACKOFF_CAP", 6 * 3600.0),
            webhook_max_attempts=_int("WEBHOOK_MAX_ATTEMPTS", 15),
            webhook_allow_private=_bool("WEBHOOK_ALLOW_PRIVATE", False),
            urgent_words=_list("URGENT_WORDS", DEFAULT_URGENT_WORDS),
            callme_per_phone=_int("CALLME_PER_PHONE", 3),
            callme_window=_float("CALLME_WINDOW", 600.0),
            callme_per_address=_int("CALLME_PER_ADDRESS", 10),
            phone_callbacks_per_site=_int("PHONE_CALLBACKS_PER_SITE", 200),
            new_visitors_per_minute=_int("NEW_VISITORS_PER_MINUTE", 600),
            trusted_proxies=_list("TRUSTED_PROXIES", ()),
            sockets_per_visitor=_int("SOCKETS_PER_VISITOR", 8),
            visitor_events_per_minute=_int("VISITOR_EVENTS_PER_MINUTE", 60),
            kb_reads_per_minute=_int("KB_READS_PER_MINUTE", 120),
            voice_private_candidates=_list("VOICE_PRIVATE_CANDIDATES", ()),
            session_max_age=_float("SESSION_MAX_AGE", 12 * 3600.0),
            login_failures_per_account=_int("LOGIN_FAILURES_PER_ACCOUNT", 10),
            login_failures_per_address=_int("LOGIN_FAILURES_PER_ADDRESS", 30),
            login_window=_float("LOGIN_WINDOW", 900.0),
            totp_key=_env("TOTP_KEY", "") or "",
            totp_issuer=_env("TOTP_ISSUER", "otodesk") or "otodesk",
            require_totp=_roles("REQUIRE_TOTP"),
            leader_lease=_float("LEADER_LEASE", 5.0),
            drain_seconds=_float("DRAIN_SECONDS", 25.0),
            gc_thresholds=_gc_thresholds(_env("GC_THRESHOLDS", "")),
            ice_servers=_ice_servers(_env("ICE_SERVERS", "")),
            voice_max_calls=_int("VOICE_MAX_CALLS", 100),
            voice_recording=_list("VOICE_RECORDING", ()),
            supervisor_notice=_choice("SUPERVISOR_NOTICE", "barge", ("barge", "all")),
            sip_uri=_env("SIP_URI", "") or "",
            sip_username=_env("SIP_USERNAME", "") or "",
            sip_password=_env("SIP_PASSWORD", "") or "",
            sip_caller_id=_env("SIP_CALLER_ID", "") or "",
            sip_codecs=tuple(c.upper() for c in _list("SIP_CODECS", ("PCMU", "PCMA"))),
            sip_transport=_choice("SIP_TRANSPORT", "", ("", "udp", "tcp", "tls")),
            sip_tls_ca_file=(_env("SIP_TLS_CA_FILE", "") or "").strip(),
            sip_tls_insecure_no_verify=_bool("SIP_TLS_INSECURE_NO_VERIFY", False),
            sip_srtp=_choice("SIP_SRTP", "", ("", "off", "optional", "required")),
            sip_register_expires=_int("SIP_REGISTER_EXPIRES", 300),
            sip_register_retry=_float("SIP_REGISTER_RETRY", 30.0),
            sip_local_host=_env("SIP_LOCAL_HOST", "") or "",
            sip_local_port=_int("SIP_LOCAL_PORT", 0),
            sip_rtp_ports=_env("SIP_RTP_PORTS", "20000-30000") or "20000-30000",
            sip_ring_timeout=_float("SIP_RING_TIMEOUT", 25.0),
            sip_inbound=tuple(_pairs("SIP_INBOUND").items()),
            sip_callback_offer=_float("SIP_CALLBACK_OFFER", 40.0),
            sip_max_calls=_int("SIP_MAX_CALLS", 50),
            phone_retry_delay=_float("PHONE_RETRY_DELAY", 300.0),
            phone_max_attempts=_int("PHONE_MAX_ATTEMPTS", 3),
            phone_retry_queues=_list("PHONE_RETRY_QUEUES", ()),
            cobrowse_remote_control=_list("COBROWSE_REMOTE_CONTROL", ()),
            url_query=_choice("URL_QUERY", "mask", URL_QUERY_MODES),
            url_private_params=_list("URL_PRIVATE_PARAMS", KNOWN_PRIVATE_PARAMS),
            widget_locale=_locale("WIDGET_LOCALE", WIDGET_LOCALES),
            after_call_window=_float("AFTER_CALL_WINDOW", 7 * 24 * 3600.0),
            smtp_host=_env("SMTP_HOST", "") or "",
            smtp_port=_int("SMTP_PORT", 25),
            smtp_from=_env("SMTP_FROM", "") or "",
            smtp_starttls=_bool("SMTP_STARTTLS", False),
            smtp_username=_env("SMTP_USERNAME", "") or "",
            smtp_password=_env("SMTP_PASSWORD", "") or "",
            smtp_timeout=_float("SMTP_TIMEOUT", 10.0),
            smtp_retry_delay=_float("SMTP_RETRY_DELAY", 5.0),
            process_id=_env("PROCESS_ID", "") or secrets.token_hex(4),
        )
        values.update(overrides)
        return cls(**values)


def _gc_thresholds(text: str | None) -> tuple[int, int, int] | None:
    """``OTODESK_GC_THRESHOLDS``: three integers ``gen0,gen1,gen2``, ``python`` for CPython's own,
    empty for otodesk's default."""
    if text in (None, ""):
        return Settings.gc_thresholds
    if text.strip().lower() == "python":
        return None
    parts = tuple(int(part) for part in text.split(","))
    if len(parts) != 3 or parts[0] < 1 or min(parts) < 0:
        raise ValueError(f"OTODESK_GC_THRESHOLDS: three integers gen0,gen1,gen2 (gen0 >= 1), or python; got {text!r}")
    return parts


def _zone(name: str) -> str:
    """OTODESK_TIMEZONE: an IANA zone such as Europe/Paris, checked at start-up."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"OTODESK_TIMEZONE must be a time zone such as Europe/Paris, not {name!r}") from None
    return name


def _calling_hours(text: str) -> str:
    """OTODESK_CALLING_HOURS: 08:00-21:00, or empty / * for any time, checked at start-up."""
    from desktop.routing.calling import parse_window
    from desktop.routing.hours import HoursError
    try:
        parse_window(text)
    except HoursError as exc:
        raise ValueError(f"OTODESK_CALLING_HOURS must be like 08:00-21:00 (or * for any time): {exc}") from None
    return text.strip()


def _roles(name: str) -> tuple[str, ...]:
    """A comma-separated list of staff roles (agent, supervisor, admin, planner), checked at start-up."""
    from desktop.repository.records import ROLES  # at call time: nothing runs at import
    roles = tuple(dict.fromkeys(r.strip().lower() for r in (_env(name, "") or "").split(",") if r.strip()))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"OTODESK_{name}: {', '.join(unknown)} is not a role; roles are {', '.join(ROLES)}")
    return roles


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _env(name, default).strip().lower()
    if value not in choices:
        raise ValueError(f"OTODESK_{name} must be one of {', '.join(c for c in choices if c)}, not {value!r}")
    return value


def _locale(name: str, choices: tuple[str, ...]) -> str:
    """A language tag among ``choices``, spelt as there (``zh-tw`` → ``zh-TW``); empty: none."""
    value = (_env(name, "") or "").strip().replace("_", "-")
    if not value:
        return ""
    for choice in choices:
        if choice.lower() == value.lower():
            return choice
    raise ValueError(f"OTODESK_{name} must be one of {', '.join(choices)}, not {value!r}")


def _ice_servers(text: str | None) -> tuple[dict, ...]:
    """OTODESK_ICE_SERVERS: a JSON list of {"urls", "username"?, "credential"?}."""
    if not text:
        return ()
    import json
    servers = json.loads(text)
    if not isinstance(servers, list) or not all(isinstance(s, dict) and s.get("urls") for s in servers):
        raise ValueError('OTODESK_ICE_SERVERS must be a JSON list like [{"urls": "stun:host:3478"}]')
    return tuple({k: s[k] for k in ("urls", "username", "credential") if k in s} for s in servers)


def stored_secret(var_dir: Path, name: str = "secret_key") -> str:
    """A secret made once and kept in ``var/<name>``, so it survives a restart
    (``secret_key``: sessions and tokens; many processes must share one: set
    OTODESK_SECRET_KEY for them)."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
