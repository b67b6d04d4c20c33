"""Demo history: a year of orders and a few weeks of contacts, so analytics and reports show something.

Generated, deterministic (a fixed seed) and loaded in one transaction each
(``Repository.load_history``), so ``otodesk demo`` starts in seconds:

- **orders**: the demo shop's products and accessories, 150 generated shoppers
  (``demo-shopper-NNN``) and the three demo customers, a year of orders with
  planted baskets (a laptop with a sleeve and a mouse, a camera with a memory
  card...) and a share of shoppers who stopped buying halfway (attrition);
- **contacts**: the weeks before today in the centre's time zone, office hours
  08:00 to 20:00 on weekdays and shorter on Saturdays, callbacks to Sales and
  Support simulated against the demo agents' shifts (a lunch break each, one
  callback at a time), with waits, short and long abandons, declined and missed
  offers, holds, wrap-ups, dispositions and scheduled callbacks; every agent
  state change is in ``agent_states`` as the router would have written it.

Idempotent: nothing is added when the first generated order or callback exists.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from desktop.repository.repository import Repository

__all__ = ["DEMO_CATALOG", "seed_orders", "seed_contacts", "contact_history"]

_DAY = 86400.0

#: (sku, name, price in cents, category); the first six are the demo shop's products (their slugs).
DEMO_CATALOG: tuple[tuple[str, str, int, str], ...] = (
    ("aurora-laptop-14", "Aurora Laptop 14", 129900, "Laptops"),
    ("nimbus-headphones", "Nimbus Headphones", 24900, "Audio"),
    ("pixel-pro-camera", "Pixel Pro Camera", 89900, "Cameras"),
    ("orbit-smartwatch", "Orbit Smartwatch", 32900, "Wearables"),
    ("terra-home-hub", "Terra Home Hub", 14900, "Smart home"),
    ("swift-e-bike", "Swift E-Bike", 219000, "Mobility"),
    ("laptop-sleeve", "Laptop Sleeve 14", 3900, "Accessories"),
    ("wireless-mouse", "Wireless Mouse", 2900, "Accessories"),
    ("memory-card-128", "Memory Card 128 GB", 2400, "Accessories"),
    ("camera-tripod", "Travel Tripod", 5900, "Accessories"),
    ("watch-strap", "Sport Strap", 1900, "Accessories"),
    ("bike-helmet", "Bike Helmet", 7900, "Mobility"),
    ("bike-lock", "Folding Bike Lock", 4900, "Mobility"),
    ("smart-plug", "Smart Plug", 1900, "Smart home"),
)
_PRICES = {sku: price for sku, _, price, _ in DEMO_CATALOG}
#: What goes with what: the main product, then accessories each bought along with some probability.
_BASKETS: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = (
    ("aurora-laptop-14", (("laptop-sleeve", 0.7), ("wireless-mouse", 0.6))),
    ("pixel-pro-camera", (("memory-card-128", 0.8), ("camera-tripod", 0.4))),
    ("swift-e-bike", (("bike-helmet", 0.75), ("bike-lock", 0.6))),
    ("orbit-smartwatch", (("watch-strap", 0.5),)),
    ("terra-home-hub", (("smart-plug", 0.7),)),
    ("nimbus-headphones", ()),
)
_SMALL = ("laptop-sleeve", "wireless-mouse", "memory-card-128", "watch-strap", "smart-plug", "nimbus-headphones")
_FIRST = ("Ava", "Ben", "Chloé", "Dev", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kai", "Lena", "Mateo",
          "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wen", "Yara", "Zoe")
_LAST = ("Adams", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski",
         "Larsen", "Moreau", "Novak", "Okafor", "Patel", "Rossi", "Silva", "Tanaka", "Varga", "Weber", "Zhang")
SHOPPERS = 150


def _basket(rng: random.Random) -> list[dict[str, Any]]:
    if rng.random() < 0.35:
        skus = [rng.choice(_SMALL)]
    else:
        main, extras = rng.choices(_BASKETS, weights=(3, 2, 1, 2, 2, 2))[0]
        skus = [main, *(sku for sku, p in extras if rng.random() < p)]
    return [{"sku": sku, "quantity": 1, "price_cents": _PRICES[sku]} for sku in skus]


def orders_for(customer_ids: Mapping[str, float], now: float, *, seed: int = 12) -> list[dict[str, Any]]:
    """A year of orders for each customer id; the value is how much they buy (1 = typical)."""
    rng = random.Random(seed)
    orders = []
    for index, (customer_id, value) in enumerate(customer_ids.items()):
        count = max(1, round(rng.expovariate(1 / (3.0 * value))))
        # A fifth stop buying halfway through the year: attrition to find.
        last = now - (rng.uniform(150, 300) * _DAY if rng.random() < 0.2 else rng.uniform(0, 60) * _DAY)
        for number in range(count):
            placed = rng.uniform(now - 365 * _DAY, last)
            items = _basket(rng)
            status = "refunded" if rng.random() < 0.03 else "delivered"
            orders.append(dict(
                id=f"demo-o-{index}-{number}", customer_id=customer_id, placed_at=placed,
                total_cents=sum(item["price_cents"] * item["quantity"] for item in items), currency="USD",
                status=status, items=items, created_at=placed,
            ))
    return orders


async def seed_orders(repo: Repository, now: float, demo_customers: Mapping[str, float]) -> int:
    """Products, the generated shoppers and a year of orders (also for ``demo_customers``:
    customer id -> how much they buy); returns the orders added (0 if already there)."""
    if await repo.get_order("demo-o-0-0") is not None:
        return 0
    rng = random.Random(5)
    shoppers = [dict(
        id=f"demo-shopper-{n:03d}", name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        email=f"shopper{n:03d}@example.com", phone=None, tier="standard",
        created_at=now - 400 * _DAY, updated_at=now - 400 * _DAY, site="default",
    ) for n in range(SHOPPERS)]
    values = {**demo_customers, **{row["id"]: rng.lognormvariate(0, 0.8) for row in shoppers}}
    orders = orders_for(values, now)
    products = [dict(sku=sku, name=name, price_cents=price, currency="USD", category=category,
                     created_at=now - 400 * _DAY, updated_at=now - 400 * _DAY)
                for sku, name, price, category in DEMO_CATALOG]
    existing = {p.sku for p in await repo.list_products(limit=200)}
    await repo.load_history(customers=shoppers, products=[p for p in products if p["sku"] not in existing],
                            orders=orders)
    return len(orders)


# -- contacts --------------------------------------------------------------------------------


_DISPOSITIONS = {
    "sales": (("Sale made", 5), ("Follow-up needed", 3), ("Callback scheduled", 1), ("Not interested", 2)),
    "support": (("Resolved", 6), ("Follow-up needed", 2), ("Escalated", 1), ("No answer", 1)),
}
#: (username, queues, shift start and end in local hours, lunch start)
_SHIFTS = (
    ("alice", ("sales", "support"), 8.0, 16.5, 12.0),
    ("bob", ("sales",), 11.5, 20.0, 15.0),
    ("carol", ("support",), 9.0, 17.5, 13.0),
)


def _local(day: dt.date, hours: float, zone: ZoneInfo) -> float:
    return dt.datetime.combine(day, dt.time(), zone).timestamp() + hours * 3600


def contact_history(agent_ids: Mapping[str, str], customer_ids: list[str], *, today: dt.date, days: int,
                    zone: ZoneInfo, seed: int = 21) -> dict[str, list[dict[str, Any]]]:
    """Callbacks, offers and agent states for the ``days`` days before ``today`` (local)."""
    rng = random.Random(seed)
    callbacks: list[dict[str, Any]] = []
    offers: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    number = 0
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        if day.weekday() == 6:
            continue  # closed on Sundays
        saturday = day.weekday() == 5
        open_hours = (9.0, 14.0) if saturday else (8.0, 20.0)
        free_at: dict[str, float] = {}
        calls: dict[str, list[tuple[float, float]]] = {}
        staffed: dict[str, tuple[float, float, float, float]] = {}
        for username, _, begin, end, lunch in _SHIFTS:
            if username not in agent_ids or (saturday and username == "carol"):
                continue
            begin, end = max(begin, open_hours[0]), min(end, open_hours[1])
            if begin >= end:
                continue
            start_at = _local(day, begin, zone) + rng.uniform(-300, 300)
            lunch_at = _local(day, lunch, zone)
            staffed[username] = (start_at, lunch_at, lunch_at + 45 * 60, _local(day, end, zone))
            free_at[username] = start_at
            agent = agent_ids[username]
            states.append(dict(agent_id=agent, state="available", reason="signed in", at=start_at))
        # Arrivals: busier mornings and Mondays; a few a day scheduled for later.
        per_hour = (7.0 if day.weekday() == 0 else 5.5) * (0.8 if saturday else 1.0)
        t = _local(day, open_hours[0], zone)
        close = _local(day, open_hours[1], zone)
        arrivals = []
        while True:
            hour = (t - _local(day, 0, zone)) / 3600
            rate = per_hour * (1.4 if 9.5 <= hour < 12 else 1.0) / 3600
            t += rng.expovariate(rate)
            if t >= close - 600:
                break
            arrivals.append(t)
        for enqueued in arrivals:
            number += 1
            queue = "sales" if rng.random() < 0.55 else "support"
            channel = "phone" if rng.random() < 0.35 else "browser"
            scheduled = enqueued if rng.random() < 0.12 else None
            callback = dict(
                id=f"demo-h-{number}", customer_id=rng.choice(customer_ids), visitor_id=None, queue=queue,
                name="", topic="", message="", channel=channel,
                phone=f"+1202555{rng.randint(100, 199):04d}" if channel == "phone" else None, tier="standard",
                scheduled_at=scheduled, state="completed", created_at=enqueued - (3600 if scheduled else 0),
                enqueued_at=enqueued, offered_at=None, answered_at=None, ended_at=None, agent_id=None,
                disposition=None, note=None, command_id=None, wrapped_up_at=None, held_seconds=0.0,
            )
            callbacks.append(callback)
            patience = rng.expovariate(1 / 420) if rng.random() < 0.92 else rng.uniform(2, 9)
            able = [(free_at[u], u) for u, qs, *_ in _SHIFTS if u in staffed and queue in qs]
            choices = []
            for free, username in able:
                begin, lunch, back, end = staffed[username]
                at = max(free, enqueued) + rng.uniform(2, 6)
                if lunch - 600 <= at < back:  # no new call just before lunch
                    at = back + rng.uniform(2, 6)
                if at < end - 600:
                    choices.append((at, username))
            if not choices:
                callback.update(state="abandoned", ended_at=enqueued + patience)
                continue
            offered_at, username = min(choices)
            agent = agent_ids[username]
            # Now and then the first agent declines or lets the offer ring out.
            if rng.random() < 0.08:
                outcome = "declined" if rng.random() < 0.6 else "timed_out"
                ended = offered_at + (rng.uniform(2, 8) if outcome == "declined" else 20.0)
                offers.append(dict(id=f"demo-h-{number}-0", callback_id=callback["id"], agent_id=agent,
                                   offered_at=offered_at, expires_at=offered_at + 20, outcome=outcome, ended_at=ended))
                states += [dict(agent_id=agent, state="reserved", reason="offer", at=offered_at),
                           dict(agent_id=agent, state="available" if outcome == "declined" else "away",
                                reason="declined" if outcome == "declined" else "missed an offer", at=ended)]
                if outcome == "timed_out":
                    states.append(dict(agent_id=agent, state="available", reason="back", at=ended + 60))
                offered_at = ended + (61 if outcome == "timed_out" else 1)
                free_at[username] = offered_at
            answered = offered_at + rng.uniform(3, 9)
            if answered - enqueued > patience:
                callback.update(state=rng.choice(["abandoned", "cancelled"]), ended_at=enqueued + patience)
                continue
            talk = rng.lognormvariate(5.5, 0.5)  # about 280 s
            held = rng.uniform(20, 90) if rng.random() < 0.2 else 0.0
            ended = answered + talk + held
            wrapped = ended + rng.uniform(15, 75)
            callback.update(offered_at=offered_at, answered_at=answered, ended_at=ended, agent_id=agent,
                            wrapped_up_at=wrapped, held_seconds=held,
                            disposition=rng.choices(*zip(*_DISPOSITIONS[queue]))[0])
            offers.append(dict(id=f"demo-h-{number}-1", callback_id=callback["id"], agent_id=agent,
                               offered_at=offered_at, expires_at=offered_at + 20, outcome="accepted",
                               ended_at=answered))
            states += [dict(agent_id=agent, state="reserved", reason="offer", at=offered_at),
                       dict(agent_id=agent, state="busy", reason="connected", at=answered),
                       dict(agent_id=agent, state="wrap_up", reason="call ended", at=ended),
                       dict(agent_id=agent, state="available", reason="done", at=wrapped)]
            free_at[username] = wrapped
            calls.setdefault(username, []).append((offered_at, wrapped))
        for username, (begin, lunch, back, end) in staffed.items():
            agent = agent_ids[username]
            # Lunch once the call in progress (if any) is wrapped up; none when the shift is short.
            for call_start, call_end in calls.get(username, ()):
                if call_start <= lunch < call_end:
                    lunch = call_end + 1
            if begin < lunch < back < end:
                states += [dict(agent_id=agent, state="away", reason="lunch", at=lunch),
                           dict(agent_id=agent, state="available", reason="back", at=back)]
            states.append(dict(agent_id=agent, state="offline", reason="signed out",
                               at=max(end, free_at[username] + 1)))
    # An agent's shift end may fall inside their last call: their history is in time order anyway.
    states = [row for _, _, row in heapq.nsmallest(len(states), ((r["at"], i, r) for i, r in enumerate(states)))]
    return {"callbacks": callbacks, "offers": offers, "agent_states": states}


async def seed_contacts(repo: Repository, agent_ids: Mapping[str, str], *, now: float, zone: str,
                        days: int = 35) -> int:
    """The contact history of the ``days`` days before today; returns the callbacks added."""
    if await repo.get_callback("demo-h-1") is not None:
        return 0
    timezone = ZoneInfo(zone)
    today = dt.datetime.fromtimestamp(now, timezone).date()
    customers = [f"demo-shopper-{n:03d}" for n in range(SHOPPERS)]
    history = contact_history(agent_ids, customers, today=today, days=days, zone=timezone)
    await repo.load_history(**history)
    return len(history["callbacks"])
