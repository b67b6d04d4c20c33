"""The desk's suggestions: the live catalogue matched within a budget, the history the contact
policies read, and the fallback (counted) when reading or matching fails or runs over."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace


from desktop.rules.actions import Action, ContactPolicy, Impression, Kind, Outcome, Push, PushKind
from desktop.rules.catalogue import Catalogue
from desktop.suggestions.live import Suggester, impressions_of

NOW = 1_800_000_000.0
DAY = 86400.0

SLEEVE = Action(id="sleeve", kind=Kind.CROSS_SELL, title="A sleeve", script="{first_name}, a {product}?",
                product_sku="sleeve-1", product_name="padded sleeve", priority=5,
                applicability='"laptop" in cart_skus', push=Push(kind=PushKind.DOCUMENT, target="doc1", label="Leaflet"),
                policy=ContactPolicy(refusal_days=30))
WARRANTY = Action(id="warranty", kind=Kind.UP_SELL, title="Extended warranty", script="Gold care for {name}",
                  eligibility='tier == "gold"', priority=1)


class Repo:
    """The repository's reads the suggester makes, in memory; ``delay`` slows them, ``fail`` breaks them."""

    def __init__(self, history=()):
        self.history = list(history)
        self.delay = 0.0
        self.fail = False

    async def _read(self, value):
        if self.fail:
            raise RuntimeError("database gone")
        if self.delay:
            await asyncio.sleep(self.delay)
        return value

    async def product_rules(self):
        return await self._read([])

    async def get_product(self, sku):
        return await self._read(None)

    async def suggestion_inputs(self, customer_id, *, since, orders):
        return await self._read(([], None, [h for h in self.history if h.at >= since]))


class Rules:
    def __init__(self, *actions, version=1):
        self.catalogue = Catalogue.compile(actions, version=version)

    def current(self):
        return self.catalogue


def card(cart=("laptop",), tier="gold", callback_id="cb1") -> dict:
    return {"callback_id": callback_id, "callback": {"queue": "sales", "name": "Nina Park"},
            "customer": {"id": "c1", "name": "Nina Park", "tier": tier},
            "context": {"cart": [{"sku": sku} for sku in cart]}}


def row(action_id: str, outcome: str, at: float, callback_id: str = "old") -> SimpleNamespace:
    return SimpleNamespace(action_id=action_id, outcome=outcome, at=at, callback_id=callback_id)


def suggester(repo, rules, **options) -> Suggester:
    return Suggester(repo=repo, bus=None, rules=rules, clock=lambda: NOW, **options)


async def test_the_best_first_with_the_script_filled_and_the_push() -> None:
    found = await suggester(Repo(), Rules(SLEEVE, WARRANTY)).suggest(card())
    assert [s["action_id"] for s in found] == ["sleeve", "warranty"]
    assert found[0] == {"action_id": "sleeve", "version": 1, "kind": "cross-sell", "title": "A sleeve",
                        "script": "Nina, a padded sleeve?", "product_sku": "sleeve-1", "product_name": "padded sleeve",
                        "push": {"kind": "document", "target": "doc1", "label": "Leaflet"}, "value": 1.0}
    assert found[1]["script"] == "Gold care for Nina Park" and found[1]["push"] is None


async def test_a_refusal_in_the_history_keeps_the_action_away() -> None:
    repo = Repo([row("sleeve", "shown", NOW - 3 * DAY), row("sleeve", "declined", NOW - 3 * DAY + 5)])
    found = await suggester(repo, Rules(SLEEVE, WARRANTY)).suggest(card())
    assert [s["action_id"] for s in found] == ["warranty"]


def test_history_is_one_impression_per_contact_and_action_at_its_furthest_outcome() -> None:
    rows = [row("sleeve", "shown", 1.0, "k1"), row("sleeve", "declined", 3.0, "k1"), row("sleeve", "presented", 2.0, "k1"),
            row("sleeve", "shown", 5.0, "k2"), row("warranty", "accepted", 4.0, "k2"), row("warranty", "shown", 6.0, "k2")]
    got = sorted(impressions_of(rows), key=lambda i: (i.contact_id, i.action_id))
    assert got == [Impression(action_id="sleeve", contact_id="k1", at=3.0, outcome=Outcome.DECLINED),
                   Impression(action_id="sleeve", contact_id="k2", at=5.0, outcome=Outcome.SHOWN),
                   Impression(action_id="warranty", contact_id="k2", at=6.0, outcome=Outcome.ACCEPTED)]


async def test_over_budget_falls_back_to_the_last_suggestions_and_is_counted() -> None:
    repo = Repo()
    live = suggester(repo, Rules(SLEEVE, WARRANTY), budget=0.05)
    first = await live.suggest(card())
    repo.delay = 0.5  # the database is slow now: the card must not wait for it
    started = asyncio.get_running_loop().time()
    again = await live.suggest(card(cart=()))
    assert asyncio.get_running_loop().time() - started < 0.3
    assert again == first  # the last ones stand
    assert live.counts["fallback_over_budget"] == 1 and live.counts["matched"] == 1
    # Another contact has no last suggestions: none.
    assert await live.suggest(card(callback_id="cb2")) == []
    assert live.counts["fallback_over_budget"] == 2


async def test_a_caller_cancelled_at_any_moment_ends_cancelled() -> None:
    """The leader asks for an offer card's suggestions in its router task: a stop's cancel must
    end it on whatever loop turn it lands (``asyncio.wait_for`` on Python 3.11 dropped one landing
    as the match finished, and the router led on)."""
    live = suggester(Repo(), Rules(SLEEVE, WARRANTY))
    lost = []
    for turns in range(1, 20):
        task = asyncio.create_task(live.suggest(card()))
        for _ in range(turns):
            await asyncio.sleep(0)
        if task.done():
            break  # every turn of a match was tried
        task.cancel()
        await asyncio.wait([task], timeout=3)
        if not task.cancelled():
            lost.append(turns)
    assert lost == [], f"cancels lost on loop turns {lost}"


async def test_a_failure_falls_back_and_is_counted_never_raised() -> None:
    repo = Repo()
    live = suggester(repo, Rules(SLEEVE))
    first = await live.suggest(card())
    repo.fail = True
    assert await live.suggest(card()) == first
    assert await live.suggest(card(callback_id="new")) == []
    assert live.counts["fallback_error"] == 2


async def test_a_rule_that_raises_is_skipped_and_counted() -> None:
    broken = Action(id="broken", kind=Kind.SERVICE, title="Broken", eligibility="context['missing'] == 'x'")
    live = suggester(Repo(), Rules(broken, WARRANTY))
    assert [s["action_id"] for s in await live.suggest(card())] == ["warranty"]
    assert live.counts["rule_errors"] == 1


class Bus:
    def __init__(self):
        self.sent = []

    async def publish(self, room, message):
        self.sent.append((room, message))


async def test_changes_during_a_match_make_one_more_match_not_one_each(monkeypatch) -> None:
    import desktop.suggestions.live as live_module

    reads = []

    async def contact_card(repo, callback_id, *, state):
        reads.append(callback_id)
        await asyncio.sleep(0.01)
        return card(cart=("laptop",) if len(reads) == 1 else ())

    monkeypatch.setattr(live_module, "contact_card", contact_card)
    bus = Bus()
    live = Suggester(repo=Repo(), bus=bus, rules=Rules(SLEEVE, WARRANTY), clock=lambda: NOW)
    live.refresh("agent1", "cb1", state="connected")
    await asyncio.sleep(0)  # the match has begun (reading the card)
    for _ in range(4):
        live.refresh("agent1", "cb1", state="connected")
    await live.settle()
    assert len(reads) == 2
    assert [m["type"] for _room, m in bus.sent] == ["suggestions", "suggestions"]
    assert [s["action_id"] for s in bus.sent[-1][1]["suggestions"]] == ["warranty"]  # the newest cart
    assert bus.sent[0][0] == "agent:agent1"


async def test_follow_matches_the_card_it_is_given_tells_the_agent_and_is_known_for_a_re_offer(monkeypatch) -> None:
    import desktop.suggestions.live as live_module

    async def no_read(*args, **kwargs):
        raise AssertionError("the card was given: nothing to read")

    monkeypatch.setattr(live_module, "contact_card", no_read)
    bus = Bus()
    live = Suggester(repo=Repo(), bus=bus, rules=Rules(SLEEVE, WARRANTY), clock=lambda: NOW)
    assert live.known("cb1") == []  # a first offer rings with nothing
    live.follow("agent1", {**card(), "state": "offered"})
    await live.settle()
    [(room, message)] = bus.sent
    assert room == "agent:agent1" and message["type"] == "suggestions" and message["callback_id"] == "cb1"
    assert [s["action_id"] for s in message["suggestions"]] == ["sleeve", "warranty"]
    assert live.known("cb1") == message["suggestions"]  # what a re-offer of cb1 rings with


async def test_with_nothing_published_follow_reads_and_sends_nothing() -> None:
    bus = Bus()
    repo = Repo()
    repo.fail = True  # any read would count as a failure
    live = Suggester(repo=repo, bus=bus, rules=Rules(), clock=lambda: NOW)
    live.follow("agent1", card())
    await live.settle()
    assert bus.sent == [] and await live.suggest(card()) == [] and live.counts["fallback_error"] == 0


async def test_a_slow_database_delays_the_suggestions_after_an_offer_it_does_not_lose_them() -> None:
    bus = Bus()
    repo = Repo()
    repo.delay = 0.2  # over the card's budget, within the background one
    live = Suggester(repo=repo, bus=bus, rules=Rules(SLEEVE), budget=0.05, background_budget=1.0, clock=lambda: NOW)
    live.follow("agent1", card())
    await live.settle()
    assert [s["action_id"] for s in bus.sent[0][1]["suggestions"]] == ["sleeve"]
    assert await live.suggest(card(callback_id="cb2")) == []  # a card waiting on it would have gone without
    assert live.counts["fallback_over_budget"] == 1
