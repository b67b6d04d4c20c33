"""The demo's knowledge base: a handful of articles in English and Simplified Chinese, for
the demo shop's pages (``desktop/demo/shop.py``), published, so the widget suggests them."""

from __future__ import annotations

from desktop.repository.repository import Repository

__all__ = ["DEMO_ARTICLES", "seed_articles"]

#: (title, Markdown body, language, tags, pages, queues)
DEMO_ARTICLES = [
    ("My payment failed", "Most failed payments are a **card declined** by the bank.\n\n"
     "1. Check the card's expiry date and the billing address.\n2. Try again, or pay with another card.\n\n"
     "Still stuck? Ask us for a call: an agent sees the checkout you are on.",
     "en", ["payment", "card", "checkout"], ["/checkout*"], ["sales"]),
    ("Returns and refunds", "You can return any laptop within **30 days**. The refund reaches your "
     "card in 3 to 5 working days after we receive it.\n\nStart a return from *My orders*.",
     "en", ["refund", "return"], [], []),
    ("Delivery times", "Orders placed before 15:00 leave the same day; delivery takes 1 to 3 working days.",
     "en", ["delivery", "shipping"], [], []),
    ("支付失败怎么办", "支付失败大多是银行**拒绝了银行卡**。\n\n1. 检查卡的有效期和账单地址。\n"
     "2. 再试一次，或换一张卡支付。\n\n还是不行？请点击“给我回电”，客服能看到您所在的结账页面。",
     "zh-CN", ["支付", "银行卡", "结账"], ["/checkout*"], ["sales"]),
    ("退货和退款", "笔记本电脑收货后 **30 天**内可以退货。我们收到退货后，退款会在 3 到 5 个工作日内退回您的银行卡。\n\n"
     "请在“我的订单”里申请退货。", "zh-CN", ["退款", "退货"], [], []),
    ("配送时间", "下午 3 点前下单当天发货，1 到 3 个工作日送达。", "zh-CN", ["配送", "快递"], [], []),
]


async def seed_articles(repo: Repository, now: float) -> int:
    """Add the demo articles not there yet (by title and language); returns how many."""
    have = {(a["title"], a["language"]) for a in await repo.kb_articles()}
    added = 0
    for title, body, language, tags, pages, queues in DEMO_ARTICLES:
        if (title, language) in have:
            continue
        await repo.kb_save_article({"title": title, "body": body, "language": language, "tags": tags,
                                    "pages": pages, "queues": queues, "published": True}, actor="demo", now=now)
        added += 1
    return added
