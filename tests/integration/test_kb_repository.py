"""The knowledge base's storage and search on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

import pytest

from desktop.repository import NotFound, Repository

T0 = 1_800_000_000.0
ADMIN = "agent:admin"


def _article(title: str, body: str, *, language: str = "en", published: bool = True, **more):
    return {"title": title, "body": body, "language": language, "tags": more.get("tags", []),
            "pages": more.get("pages", []), "queues": more.get("queues", []), "published": published}


@pytest.fixture
async def repo(database_url: str):
    async with Repository.open(database_url, upgrade=True) as repo:
        yield repo


async def test_chinese_topics_find_chinese_articles_without_spaces(repo: Repository) -> None:
    _, refund = await repo.kb_save_article(_article("如何申请退款", "在订单页面点击**申请退款**，三个工作日内到账。",
                                                    language="zh-CN"), actor=ADMIN, now=T0)
    await repo.kb_save_article(_article("修改收货地址", "发货前可以在订单详情里修改地址。", language="zh-CN"),
                               actor=ADMIN, now=T0)
    await repo.kb_save_article(_article("Refunds", "Ask for a refund from the order page.", tags=["payment"]),
                               actor=ADMIN, now=T0)

    # A sentence the customer types, no spaces: its bigrams meet the article's.
    found = await repo.kb_search("我想退款怎么办", language="zh-CN")
    assert [a["title"] for a in found][:1] == ["如何申请退款"]
    assert found[0]["id"] == refund["id"] and found[0]["summary"].startswith("在订单页面点击申请退款")
    # Only the customer's language; one character alone is a term too.
    assert await repo.kb_search("退款", language="zh-TW") == []
    assert [a["title"] for a in await repo.kb_search("址", language="zh-CN")] == ["修改收货地址"]
    # English words, a tag, and a word still being typed (a prefix).
    assert [a["title"] for a in await repo.kb_search("refund", language="en")] == ["Refunds"]
    assert [a["title"] for a in await repo.kb_search("paym", language="en")] == ["Refunds"]
    assert await repo.kb_search("paym ", language="en") == []  # finished word: no prefix
    # Punctuation and FTS operators are text, never syntax.
    assert await repo.kb_search('" OR * NEAR( -- ; \\', language="en") == []
    assert [a["title"] for a in await repo.kb_search('refund" OR "x', language="en")] == ["Refunds"]


async def test_the_title_ranks_above_the_body_and_unpublished_articles_hide(repo: Repository) -> None:
    await repo.kb_save_article(_article("Shipping times", "Parcels leave in a day; a delayed parcel is rare."),
                               actor=ADMIN, now=T0)
    _, delayed = await repo.kb_save_article(_article("Delayed parcel", "What to do when it is late."),
                                            actor=ADMIN, now=T0)
    assert [a["title"] for a in await repo.kb_search("delayed parcel", language="en")] == \
        ["Delayed parcel", "Shipping times"]
    await repo.kb_set_published(delayed["id"], False, actor=ADMIN, now=T0 + 1)
    assert [a["title"] for a in await repo.kb_search("delayed", language="en")] == ["Shipping times"]
    # An edit re-indexes: the old words are gone, the new ones found.
    await repo.kb_save_article(_article("Late parcel", "What to do when it is late.", published=True),
                               article_id=delayed["id"], actor=ADMIN, now=T0 + 2)
    assert [a["title"] for a in await repo.kb_search("delayed", language="en")] == ["Shipping times"]
    assert [a["title"] for a in await repo.kb_search("late", language="en")] == ["Late parcel"]
    await repo.kb_delete_article(delayed["id"], actor=ADMIN, now=T0 + 3)
    assert await repo.kb_search("late", language="en") == []
    with pytest.raises(NotFound):
        await repo.kb_delete_article(delayed["id"], actor=ADMIN)
    actions = [row["action"] for row in await repo.admin_audit(target=f"kb:{delayed['id']}")]
    assert actions == ["kb.delete", "kb.update", "kb.unpublish", "kb.add"]


async def test_views_answers_and_calls_count_per_article_and_land_on_the_timeline(repo: Repository) -> None:
    _, article = await repo.kb_save_article(_article("Reset your password", "Use the link."), actor=ADMIN, now=T0)
    a, b = await repo.touch_visitor("va", T0), await repo.touch_visitor("vb", T0)
    for visitor in (a, b):
        await repo.kb_record(article_id=article["id"], title=article["title"], visitor_id=visitor.id,
                             customer_id=visitor.customer_id, kind="view", now=T0 + 10)
    await repo.kb_record(article_id=article["id"], title=article["title"], visitor_id=a.id,
                         customer_id=a.customer_id, kind="view", now=T0 + 11)
    await repo.kb_record(article_id=article["id"], title=article["title"], visitor_id=a.id,
                         customer_id=a.customer_id, kind="solved", now=T0 + 20)
    await repo.kb_record(article_id=article["id"], title=article["title"], visitor_id=b.id,
                         customer_id=b.customer_id, kind="unsolved", now=T0 + 20)
    assert await repo.kb_note_call(visitor_id=b.id, customer_id=b.customer_id, callback_id="cb1",
                                   now=T0 + 30) == [article["id"]]
    # Read more than an hour before: not this article's call.
    assert await repo.kb_note_call(visitor_id=a.id, customer_id=a.customer_id, callback_id="cb2",
                                   now=T0 + 4000) == []
    [row] = await repo.kb_deflection(T0, T0 + 5000)
    assert row == {"article_id": article["id"], "title": "Reset your password", "language": "en", "views": 3,
                        "readers": 2, "solved": 1, "still_wanted_call": 1, "calls_after_reading": 1,
                        "deflected": 1, "solved_rate": 0.5, "deflection_rate": 0.5}
    assert await repo.kb_deflection(T0 + 5000, T0 + 6000) == []
    kinds = [e.kind for e in await repo.timeline(b.customer_id)]
    assert kinds == ["kb_call", "kb_unsolved", "kb_view"]


async def test_articles_for_a_page(repo: Repository) -> None:
    await repo.kb_save_article(_article("Paying", "Cards and PayPal.", pages=["/checkout*"]), actor=ADMIN, now=T0)
    await repo.kb_save_article(_article("Anything", "No page."), actor=ADMIN, now=T0)
    assert [a["title"] for a in await repo.kb_page_articles(language="en")] == ["Paying"]
