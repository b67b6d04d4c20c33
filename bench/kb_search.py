"""How fast the knowledge base answers a customer's topic, over 10,000 articles (issue 14).

Loads ``--articles`` published articles (half English, half Simplified Chinese; titles of
3-6 and bodies of 80-200 words drawn from a customer-service vocabulary, so common words
match thousands of articles), then asks ``--queries`` topics as customers type them
(Chinese sentences without spaces, English phrases, a word half typed), through the real
:meth:`Repository.kb_search` (the full-text index: a tsvector under GIN on PostgreSQL,
FTS5 on SQLite; top 20 by rank), and, in turns with it, the baseline: a substring scan
(``ILIKE '%term%'`` on PostgreSQL, ``LIKE`` on SQLite, over title and body, for the same
terms; no rank), what a search without an index does. Prints p50/p99 per backend and the
ratio; the last line is one JSON object with the units in the keys. Figures, never pass/fail::

    .venv/bin/python -m bench.kb_search [--db postgresql|sqlite|both] [--articles 10000] [--queries 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from bench.common import summary
from bench.timeline import _drop_postgres, _postgres_database
from desktop.kb.terms import query_terms
from desktop.repository import Repository, upgrade_database_async
from desktop.repository.kb import ARTICLES, derived_columns, index_article

ZH = ("退款 发票 订单 支付 快递 物流 地址 修改 取消 退货 换货 保修 维修 电池 屏幕 充电 密码 账号 登录 注册 "
      "会员 积分 优惠券 折扣 价格 库存 发货 到货 签收 包装 损坏 质量 客服 电话 回电 预约 安装 配件 耳机 "
      "相机 手表 电脑 键盘 鼠标 显示器 网络 信号 蓝牙 更新 系统 下载 运费 关税 海外 分期 信用卡 银行 余额 "
      "转账 失败 成功 延迟 查询 状态 评价 投诉 建议 隐私 数据 删除 导出 通知 短信 邮件 验证码 实名 认证").split()
EN = ("refund invoice order payment delivery courier address change cancel return exchange warranty repair "
      "battery screen charging password account login register member points coupon discount price stock "
      "shipping arrival signature packaging damaged quality support phone callback appointment install "
      "accessory headphones camera watch laptop keyboard mouse monitor network signal bluetooth update system "
      "download fee customs overseas instalment credit card bank balance transfer failed success delay status "
      "review complaint suggestion privacy data delete export notification message email code verify identity").split()
STOP = "the a to of and for in on with your you we it is this that how what when why can not".split()
FILLERS = ["我的", "怎么", "为什么", "还没", "可以", "吗", "了", "请问", "一直", "不能"]
CHUNK = 1000


def _article(rng: random.Random, language: str, now: float) -> dict:
    words = ZH if language == "zh-CN" else EN + STOP
    join = "" if language == "zh-CN" else " "
    title = join.join(rng.choices(words, k=rng.randint(3, 6)))
    sentences = []
    for _ in range(rng.randint(8, 20)):
        sentences.append(join.join(rng.choices(words, k=rng.randint(6, 12))) + ("。" if language == "zh-CN" else "."))
    values = {"title": title, "body": "\n\n".join(sentences), "language": language, "tags": rng.sample(words, 2),
              "pages": [], "queues": [], "published": True}
    return {**values, **derived_columns(values), "id": uuid.uuid4().hex, "created_at": now, "updated_at": now}


def _topic(rng: random.Random) -> tuple[str, str]:
    kind = rng.random()
    if kind < 0.5:  # as a customer writes Chinese: words and particles, no spaces
        parts = rng.sample(ZH, rng.randint(1, 3))
        return "".join(p + rng.choice(FILLERS) for p in parts), "zh-CN"
    words = rng.sample(EN, rng.randint(1, 3))
    if kind < 0.75:
        return " ".join(words), "en"
    return " ".join(words)[:-2], "en"  # still typing the last word: a prefix


async def _load(repo: Repository, count: int, seed: int) -> None:
    rng = random.Random(seed)
    now = time.time()
    rows = [_article(rng, "zh-CN" if i % 2 else "en", now) for i in range(count)]
    for start in range(0, count, CHUNK):
        chunk = rows[start:start + CHUNK]

        def write(conn, chunk=chunk):
            conn.execute(ARTICLES.insert(), chunk)
            for row in chunk:
                index_article(conn, row["id"], row["terms"], new=True)

        await repo.database.write(write)
    if repo.database.dialect == "postgresql":
        await repo.database.write(lambda conn: conn.exec_driver_sql("ANALYZE kb_articles"))


def _substring(conn, terms: list[str], language: str) -> list:
    """The baseline: no index, a scan of title and body for any of the terms."""
    like = "ILIKE" if conn.dialect.name == "postgresql" else "LIKE"
    params = {"language": language}
    clauses = []
    for i, term in enumerate(terms):
        params[f"t{i}"] = f"%{term}%"
        clauses.append(f"title {like} :t{i} OR body {like} :t{i}")
    return conn.execute(text(f"SELECT id, title, summary FROM kb_articles WHERE published AND language = :language "
                             f"AND ({' OR '.join(clauses)}) LIMIT 20"), params).all()


async def _measure(repo: Repository, queries: int, seed: int) -> dict:
    rng = random.Random(seed + 1)
    topics = [_topic(rng) for _ in range(queries)]
    for topic, language in topics[:30]:  # warm the caches and the prepared statements
        await repo.kb_search(topic, language=language)
    index_ms, scan_ms, found = [], [], []
    for topic, language in topics:
        started = time.perf_counter()
        results = await repo.kb_search(topic, language=language)
        index_ms.append((time.perf_counter() - started) * 1000)
        found.append(len(results))
        terms, _ = query_terms(topic)
        started = time.perf_counter()
        await repo.database.read_fast(_substring, terms, language)
        scan_ms.append((time.perf_counter() - started) * 1000)
    return {"index": summary(index_ms), "scan": summary(scan_ms),
            "with_results": sum(1 for n in found if n) / len(found)}


async def _run(url: str, args) -> dict:
    await upgrade_database_async(url)
    async with Repository.open(url) as repo:
        started = time.perf_counter()
        await _load(repo, args.articles, args.seed)
        loaded = time.perf_counter() - started
        figures = await _measure(repo, args.queries, args.seed)
    figures["load_s"] = loaded
    return figures


def _print(name: str, figures: dict, articles: int) -> None:
    index, scan = figures["index"], figures["scan"]
    print(f"{name}: {articles} articles loaded in {figures['load_s']:.1f} s; "
          f"{figures['with_results']:.0%} of topics found articles")
    print(f"  full-text index (kb_search, top 20 ranked): p50 {index['p50']:.2f} ms, p99 {index['p99']:.2f} ms, "
          f"max {index['max']:.2f} ms")
    print(f"  substring scan (baseline, unranked):       p50 {scan['p50']:.2f} ms, p99 {scan['p99']:.2f} ms "
          f"-> index {scan['p50'] / index['p50']:.1f}x faster at p50, {scan['p99'] / index['p99']:.1f}x at p99")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--postgres-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    result: dict = {"articles": args.articles, "queries": args.queries}
    if args.db in ("postgresql", "both"):
        url, name = await _postgres_database(args.postgres_url, None)
        try:
            figures = await _run(url, args)
        finally:
            await _drop_postgres(args.postgres_url, name)
        _print("PostgreSQL", figures, args.articles)
        result.update(pg_index_p50_ms=figures["index"]["p50"], pg_index_p99_ms=figures["index"]["p99"],
                      pg_scan_p50_ms=figures["scan"]["p50"], pg_scan_p99_ms=figures["scan"]["p99"],
                      pg_scan_over_index_p99_ratio=figures["scan"]["p99"] / figures["index"]["p99"])
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as directory:
            figures = await _run(f"sqlite+aiosqlite:///{Path(directory) / 'kb.db'}", args)
        _print("SQLite", figures, args.articles)
        result.update(sqlite_index_p50_ms=figures["index"]["p50"], sqlite_index_p99_ms=figures["index"]["p99"],
                      sqlite_scan_p50_ms=figures["scan"]["p50"], sqlite_scan_p99_ms=figures["scan"]["p99"],
                      sqlite_scan_over_index_p99_ratio=figures["scan"]["p99"] / figures["index"]["p99"])
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
