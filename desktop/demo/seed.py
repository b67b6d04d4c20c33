"""Demo data: two queues, six accounts, four customers with a history, and published rules.

``otodesk demo`` and ``make run`` call :func:`seed_demo` so a fresh install
has someone to log in as and customers worth looking at. Every account shares
:data:`DEMO_PASSWORD`; never seed a database reachable from the internet.
"""

from __future__ import annotations

from pathlib import Path

from desktop.demo.history import seed_contacts, seed_orders
from desktop.demo.kb import seed_articles
from desktop.repository.errors import Conflict
from desktop.repository.repository import Repository
from desktop.rules import Action, ContactPolicy, Kind, Push, PushKind
from desktop.settings import stored_secret
from desktop.routing.events import (
    CallbackConnected,
    CallbackEnded,
    CallbackQueued,
    CallbackState,
    OfferEnded,
    OfferMade,
    OfferOutcome,
)

__all__ = ["DEMO_PASSWORD", "DEMO_ACCOUNTS", "DEMO_QUEUES", "DEMO_CUSTOMERS", "DEMO_USER_IDS", "DEMO_ACTIONS",
           "seed_demo", "demo_identity_secret"]

#: The password of every demo account. Public by design: demo only.
DEMO_PASSWORD = "otodesk-demo"

#: (username, display name, role, skills)
DEMO_ACCOUNTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("alice", "Alice Martin", "agent", ("sales", "support")),
    ("bob", "Bob Okafor", "agent", ("sales",)),
    ("carol", "Carol Nguyen", "agent", ("support",)),
    ("sam", "Sam Reyes", "supervisor", ()),
    ("admin", "Administrator", "admin", ()),
    ("pat", "Pat Lee", "planner", ()),
)

#: (name, title, skills, service-level target in seconds)
DEMO_QUEUES: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    ("sales", "Sales", ("sales",), 20.0),
    ("support", "Support", ("support",), 30.0),
)

#: (visitor id, name, email, phone, tier); 555-01xx numbers are fictional.
DEMO_CUSTOMERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("demo-visitor-1", "Mei Chen", "mei.chen@example.com", "+12025550143", "gold"),
    ("demo-visitor-2", "Oskar Lindqvist", "oskar@example.org", "+12025550178", "platinum"),
    ("demo-visitor-3", "Ana Souza", "ana.souza@example.net", "+12025550112", "standard"),
    ("demo-visitor-4", "Idris Noor", "idris.noor@example.com", "+12025550187", "standard"),
)

#: The demo shop's own user id of each demo customer (by visitor id): a verified identity,
#: so signing in to the shop as one of them joins their record (``desktop.demo.shop``).
DEMO_USER_IDS: dict[str, str] = {
    "demo-visitor-1": "nova-mei", "demo-visitor-2": "nova-oskar", "demo-visitor-3": "nova-ana",
    "demo-visitor-4": "nova-idris",
}

_HOUR = 3600.0
_DAY = 24 * _HOUR


async def seed_demo(repo: Repository, now: float, *, time_zone: str = "UTC",
                    history: bool = True) -> list[tuple[str, str, str]]:
    """Create the demo queues, accounts and customers; return ``(username, password, role)``.

    Idempotent: queues are upserted, and accounts and customers that already
    exist (by username, by visitor id) are left alone, passwords included.
    History is placed in the days before ``now`` (epoch seconds), so today's
    queue statistics start empty. With ``history`` (the default), a year of
    orders and five weeks of contacts in ``time_zone`` are generated too
    (:mod:`desktop.demo.history`), for the analytics and the reports.
    """
    for order, (name, title, skills, target) in enumerate(DEMO_QUEUES):
        await repo.upsert_queue(
            name, title=title, skills=skills, service_level_target=target, sort_order=order
        )
    agent_ids: dict[str, str] = {}
    for username, display_name, role, skills in DEMO_ACCOUNTS:
        agent = await repo.get_agent_by_username(username)
        if agent is None:
            agent = await repo.add_agent(
                username, DEMO_PASSWORD, display_name=display_name, role=role, skills=skills,
                now=now - 30 * _DAY,
            )
        agent_ids[username] = agent.id

    await _mei(repo, now, agent_ids["alice"])
    await _oskar(repo, now, agent_ids["carol"])
    await _ana(repo, now)
    await _idris(repo, now)
    for visitor_id, user_id in DEMO_USER_IDS.items():
        visitor = await repo.get_visitor(visitor_id)
        if visitor is not None:  # idempotent; an erased demo customer stays erased
            try:
                await repo.add_identity(visitor.customer_id, "user_id", user_id, verified=True,
                                        source="demo", now=now)
            except Conflict:
                pass  # someone signed in as them before this seed ran: theirs already
    if await repo.latest_rule_version() is None:  # never over a planner's own catalogue
        await repo.import_rule_actions(DEMO_ACTIONS, by="demo", now=now)
        await repo.publish_rules(by="demo", note="The demo's actions", now=now)
    await seed_articles(repo, now)  # the knowledge base the widget suggests from
    if history:
        # How much each demo customer buys, against a typical shopper's 1.
        spend = {"demo-visitor-1": 3.0, "demo-visitor-2": 6.0, "demo-visitor-3": 0.3}
        buyers = {}
        for visitor_id, value in spend.items():
            visitor = await repo.get_visitor(visitor_id)
            if visitor is not None:
                buyers[visitor.customer_id] = value
        await seed_orders(repo, now, buyers)
        await seed_contacts(repo, {u: agent_ids[u] for u in ("alice", "bob", "carol")}, now=now, zone=time_zone)
    return [(username, DEMO_PASSWORD, role) for username, _, role, _ in DEMO_ACCOUNTS]


async def _new_customer(repo: Repository, index: int, since: float) -> tuple[str, str] | None:
    """Create the demo customer ``index``; ``(visitor id, customer id)``, or None if present."""
    visitor_id, name, email, phone, tier = DEMO_CUSTOMERS[index]
    if await repo.get_visitor(visitor_id) is not None:
        return None
    visitor = await repo.touch_visitor(visitor_id, since)
    await repo.update_customer(
        visitor.customer_id, name=name, email=email, phone=phone, tier=tier, now=since
    )
    return visitor_id, visitor.customer_id


async def _pages(
    repo: Repository, visitor_id: str, start: float, pages: list[tuple[str, str]]
) -> None:
    """Page views 40 s apart from ``start``."""
    for step, (url, title) in enumerate(pages):
        await repo.record_page_view(visitor_id, url=url, title=title, now=start + 40.0 * step)


async def _mei(repo: Repository, now: float, alice_id: str) -> None:
    """Gold: three days ago she browsed laptops, asked for a call and bought with Alice's help."""
    start = now - 3 * _DAY
    created = await _new_customer(repo, 0, start)
    if created is None:
        return
    visitor_id, customer_id = created
    await _pages(repo, visitor_id, start, [
        ("https://shop.example.com/", "Example Shop"),
        ("https://shop.example.com/laptops", "Laptops"),
        ("https://shop.example.com/laptops/studio-15", "Studio 15 laptop"),
        ("https://shop.example.com/checkout", "Checkout"),
    ])
    asked = start + 200.0
    await repo.set_visitor_context(visitor_id, {"cart_value": 1899.0, "currency": "USD"}, asked)
    await repo.create_callback(
        id="demo-callback-1", visitor_id=visitor_id, customer_id=customer_id, queue="sales",
        name="Mei Chen", topic="Laptop for video editing",
        message="Is the Studio 15 fast enough for 4K editing? Checkout asks for a warranty.",
        channel="browser", phone=None, tier="gold", scheduled_at=None, now=asked,
        command_id="demo-command-1",
    )
    await repo.record_routing([
        CallbackQueued(callback_id="demo-callback-1", queue="sales", at=asked),
        OfferMade(offer_id="demo-offer-1", callback_id="demo-callback-1", agent_id=alice_id,
                  at=asked + 4.0, expires_at=asked + 24.0),
        OfferEnded(offer_id="demo-offer-1", callback_id="demo-callback-1", agent_id=alice_id,
                   outcome=OfferOutcome.ACCEPTED, at=asked + 9.0),
        CallbackConnected(callback_id="demo-callback-1", agent_id=alice_id,
                          offer_id="demo-offer-1", at=asked + 9.0),
        CallbackEnded(callback_id="demo-callback-1", state=CallbackState.COMPLETED,
                      agent_id=alice_id, at=asked + 9.0 + 7 * 60.0),
    ])
    await repo.wrap_up(
        "demo-callback-1", agent_id=alice_id, disposition="Sale made",
        note="Bought the Studio 15 with 32 GB and the 3-year warranty. "
        "Wants a colour-calibrated monitor next.",
        now=asked + 9.0 + 8 * 60.0,
    )
    await _pages(repo, visitor_id, now - 2 * _HOUR, [
        ("https://shop.example.com/monitors", "Monitors"),
        ("https://shop.example.com/monitors/pro-27", "Pro 27 monitor"),
    ])


async def _oskar(repo: Repository, now: float, carol_id: str) -> None:
    """Platinum: wrote to support yesterday about an invoice and browsed the help pages."""
    start = now - _DAY
    created = await _new_customer(repo, 1, start)
    if created is None:
        return
    visitor_id, customer_id = created
    await repo.add_contact_event(
        customer_id=customer_id, kind="email_received", channel="email", at=start,
        data={"subject": "Invoice 2211 charged twice", "from": "oskar@example.org"},
    )
    await repo.add_contact_event(
        customer_id=customer_id, kind="email_sent", channel="email", at=start + 2 * _HOUR,
        agent_id=carol_id, data={"subject": "Re: Invoice 2211 charged twice"},
    )
    await _pages(repo, visitor_id, start + 3 * _HOUR, [
        ("https://shop.example.com/help/billing", "Billing help"),
        ("https://shop.example.com/account/invoices", "Your invoices"),
    ])


async def _ana(repo: Repository, now: float) -> None:
    """Standard: a first visit a few minutes ago."""
    start = now - 10 * 60.0
    created = await _new_customer(repo, 2, start)
    if created is None:
        return
    visitor_id, _ = created
    await _pages(repo, visitor_id, start, [
        ("https://shop.example.com/", "Example Shop"),
        ("https://shop.example.com/phones", "Phones"),
    ])


async def _idris(repo: Repository, now: float) -> None:
    """Silver once: three orders last winter and spring, nothing for over four months."""
    created = await _new_customer(repo, 3, now - 300 * _DAY)
    if created is None:
        return
    _visitor_id, customer_id = created
    for n, (days, sku, cents) in enumerate(((260, "nimbus-headphones", 24900), (190, "orbit-smartwatch", 32900),
                                            (130, "terra-home-hub", 14900))):
        await repo.add_order(id=f"demo-order-idris-{n + 1}", customer_id=customer_id, placed_at=now - days * _DAY,
                             total_cents=cents, currency="USD", status="delivered",
                             items=[{"sku": sku, "quantity": 1, "price_cents": cents}], now=now)


#: The demo's catalogue, published by the seed: what the desk suggests during the tour.
DEMO_ACTIONS: tuple[Action, ...] = (
    Action(
        id="laptop-bag", kind=Kind.CROSS_SELL, title="Voyager Laptop Bag with the laptop",
        script="{first_name|By the way}, the {product} fits the Aurora Laptop 14 in your cart exactly, "
               "with a pocket for the charger. It's $89, and it ships in the same box.",
        product_sku="voyager-laptop-bag", product_name="Voyager Laptop Bag",
        push=Push(kind=PushKind.PAGE, target="/product/voyager-laptop-bag", label="Show the bag"),
        value=89.0, lever=1.0, priority=1.0, queues=("sales", "support"),
        applicability='"aurora-laptop-14" in cart_skus',
        suitability='not ("voyager-laptop-bag" in cart_skus) and not ("voyager-laptop-bag" in owned)',
        policy=ContactPolicy(max_impressions=3, window_days=30, refusal_days=30),
    ),
    Action(
        id="gold-care-plan", kind=Kind.UP_SELL, title="3-year care plan for gold customers",
        script="As one of our {tier} customers, {first_name|you} can add the 3-year care plan to this "
               "${cart_total} order at half price: repairs, a replacement if it breaks, and a courier "
               "both ways.",
        product_sku="care-plan-3y", product_name="Care plan, 3 years",
        push=Push(kind=PushKind.PAGE, target="/plans", label="Show the care plans"),
        value=120.0, lever=1.0, priority=1.0,
        eligibility='tier == "gold" or tier == "platinum"',
        applicability="cart_total >= 300",
        suitability='not ("care-plan-3y" in owned)',
        policy=ContactPolicy(max_impressions=2, window_days=30, refusal_days=60),
    ),
    Action(
        id="win-back", kind=Kind.RETENTION, title="Welcome-back offer for lapsed customers",
        script="{first_name|Hello}, it's good to hear from you! It has been {days_since_last_order|some} days "
               "since your last order, so here is 15% off the next one: code COMEBACK15, valid for a month.",
        value=60.0, lever=1.5, priority=1.0,
        eligibility="orders >= 2 and days_since_last_order > 90",
        suitability="open_issues == 0",
        policy=ContactPolicy(max_impressions=2, window_days=60, refusal_days=90),
    ),
)


def demo_identity_secret(var_dir: Path) -> str:
    """The identity secret ``otodesk demo`` uses when none is set: made once into ``var/``.

    The demo shop (same server) signs its customers in with it. A real site sets
    ``OTODESK_IDENTITY_SECRET`` and keeps it on its own server.
    """
    return stored_secret(var_dir, "identity_secret")
