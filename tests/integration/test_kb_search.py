"""What the knowledge base's search finds first (issue 14): every term before some, title
matches never lost by the bounded rank, and only the indexes finding candidates. On SQLite
(FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

import time
import uuid

import pytest

from desktop.kb.terms import query_terms
from desktop.repository import Repository
from desktop.repository.kb import ARTICLES, derived_columns, index_article
from desktop.repository.kb_search import CANDIDATES, explain

T0 = 1_800_000_000.0
ADMIN = "agent:admin"


def _article(title: str, body: str, *, language: str = "en", tags: tuple[str, ...] = (),
             queues: tuple[str, ...] = ()) -> dict:
    return {"title": title, "body": body, "language": language, "tags": list(tags), "pages": [],
            "queues": list(queues), "published": True}


@pytest.fixture
async def repo(database_url: str):
    async with Repository.open(database_url, upgrade=True) as repo:
        yield repo


async def _titles(repo: Repository, query: str, language: str = "en", *, queue: str | None = None) -> list[str]:
    return [a["title"] for a in await repo.kb_search(query, language=language, queue=queue)]


async def test_articles_with_every_term_come_before_those_with_some(repo: Repository) -> None:
    # Before, any term (OR), the title first: "Refund" (one term, in its title) came first for
    # "refund card", above the article that answers both words.
    await repo.kb_save_article(_article("Refund", "Ask for one from the order page."), actor=ADMIN, now=T0)
    await repo.kb_save_article(_article("Paying", "A refund goes back to the card you paid with."),
                               actor=ADMIN, now=T0 + 1)
    await repo.kb_save_article(_article("Gift card", "It never expires."), actor=ADMIN, now=T0 + 2)
    assert await _titles(repo, "refund card ") == ["Paying", "Gift card", "Refund"]
    # Too few have them all: those with some follow, a title's match first among them.
    assert await _titles(repo, "gift refund ") == ["Gift card", "Refund", "Paying"]
    # A word no article has (a typo) does not hide the others.
    assert (await _titles(repo, "refund xqzjv"))[:1] == ["Refund"]
    # Chinese: every bigram of the sentence is an exact phrase; a customer's particles make it
    # the OR tier, where having more of the bigrams (and in the title) still wins.
    await repo.kb_save_article(_article("退款", "在订单页面申请。", language="zh-CN"), actor=ADMIN, now=T0)
    await repo.kb_save_article(_article("开具发票", "发票退款后作废，请重新申请。", language="zh-CN"),
                               actor=ADMIN, now=T0)
    assert await _titles(repo, "发票退款", "zh-CN") == ["开具发票", "退款"]
    assert await _titles(repo, "我要发票退款怎么办", "zh-CN") == ["开具发票", "退款"]
    assert await _titles(repo, "退款", "zh-CN") == ["退款", "开具发票"]


async def test_a_title_match_is_found_among_more_body_matches_than_are_ranked(repo: Repository) -> None:
    """More articles mention the word than the search ranks (CANDIDATES): the one whose title
    has it is still first, with more than that written both before and after it (the body
    candidates are the first found on PostgreSQL, the newest on SQLite)."""
    now = time.time()
    filler = [_article(f"第{i}篇", "发货以后可以在订单页面查看物流。" * 3, language="zh-CN")
              for i in range(2 * CANDIDATES + 10)]
    answer = _article("查看物流", "物流信息在订单页面。", language="zh-CN")
    rows = [{**values, **derived_columns(values), "id": uuid.uuid4().hex, "created_at": now, "updated_at": now}
            for values in [*filler[:CANDIDATES + 5], answer, *filler[CANDIDATES + 5:]]]

    def load(conn) -> None:
        conn.execute(ARTICLES.insert(), rows)
        for row in rows:
            index_article(conn, row["id"], row["terms"], new=True)

    await repo.database.write(load)
    assert (await _titles(repo, "物流", "zh-CN"))[:1] == ["查看物流"]
    assert (await _titles(repo, "我的物流怎么查", "zh-CN"))[:1] == ["查看物流"]
    assert len(await repo.kb_search("物流", language="zh-CN")) == 20


async def test_a_queue_s_articles_are_chosen_before_the_bound_not_after(repo: Repository) -> None:
    """The widget asks for the customer's queue. Filtered after the top 20, the one article
    for billing (the word in its body only) was below 20 sales articles with it in the title."""
    for i in range(25):
        await repo.kb_save_article(_article(f"Refund {i}", "Sales.", queues=("sales",)), actor=ADMIN, now=T0)
    await repo.kb_save_article(_article("Invoices", "Ask billing for a refund.", queues=("billing",)),
                               actor=ADMIN, now=T0)
    await repo.kb_save_article(_article("Anything", "A refund, for every queue."), actor=ADMIN, now=T0)
    assert sorted(await _titles(repo, "refund", queue="billing")) == ["Anything", "Invoices"]  # a tie in rank
    assert await _titles(repo, "refund", queue="support") == ["Anything"]
    assert len(await _titles(repo, "refund")) == 20


@pytest.mark.parametrize("query", ["refund card", "我想退款怎么办", "paym"])
async def test_only_the_indexes_find_candidates(repo: Repository, query: str) -> None:
    """A small table, where a planner would rather read every row: the search still asks the
    full-text indexes (PostgreSQL: GIN on search and search_title; SQLite: FTS5)."""
    await repo.kb_save_article(_article("Refunds", "To the card."), actor=ADMIN, now=T0)
    terms, prefix = query_terms(query)
    for every, queue in ((True, None), (False, None), (True, "support"), (False, "support")):
        plan = await repo.database.read(explain, terms, prefix, "en", every=every, queue=queue)
        if repo.database.dialect == "postgresql":
            assert "Bitmap Index Scan on ix_kb_articles_search" in plan, plan
            assert "Seq Scan" not in plan and "language_published" not in plan, plan
        else:
            assert "VIRTUAL TABLE INDEX" in plan and "SCAN ta" not in plan and "SCAN ba" not in plan, plan
