"""How fast the knowledge base answers a customer's topic, over 10,000 articles (issue 14).

Loads ``--articles`` published articles (half English, half Simplified Chinese), then asks
``--queries`` topics as customers type them (Chinese sentences without spaces, English
phrases, a word half typed) through the real :meth:`Repository.kb_search` (top 20), and,
with ``--baseline``, in turns with it on the same topics, the search as it was before issue
14's work: any term (OR), every match ranked. Two corpora:

- ``realistic`` (default): each article is about 2-3 customer-service topics (its title and
  tags), its body drawn from a Zipf-distributed vocabulary of ~4,000 words a language plus
  the common function words and particles; a topic names the topics of one article. Quality:
  the share of topics whose first result's title has every topic word asked.
- ``uniform``: the worst case measured first: ~100 words a language drawn uniformly, so every
  term is in 40-70% of the articles.

Prints p50/p99 per backend; the last line is one JSON object with the units in the keys.
Figures, never pass/fail::

    .venv/bin/python -m bench.kb_search [--db postgresql|sqlite|both] [--corpus realistic|uniform]
        [--baseline] [--articles 10000] [--queries 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
import uuid
from itertools import accumulate
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
CHUNK = 1000
FILLERS = ["我的", "怎么", "为什么", "还没", "可以", "吗", "了", "请问", "一直", "不能"]
ZH_COMMON = ("的 了 是 在 我 你 您 请 可以 怎么 如果 需要 没有 我们 这个 一个 已经 时候 问题 就 也 都 会 "
             "要 和 把 被 对 从 到 后 前 再 还 不 吗 呢 吧 个 用 能 让 给 说 看 多 少 时 天 里").split()
ZH_TOPICS = ZH[:80]
EN_TOPICS = EN[:80]
SYLLABLES = "ka lo mi ren tas vo pel di sun gar bri on te qua mos fen li za ho ur ple dro ven ti cas".split()


def _zipf(count: int, s: float = 1.07) -> list[float]:
    return list(accumulate(1 / (rank ** s) for rank in range(1, count + 1)))


class Vocabulary:
    """A language's words for the realistic corpus: function words, a Zipfian vocabulary in
    which the topic words are spread, and the topics."""

    def __init__(self, rng: random.Random, language: str, size: int = 4000) -> None:
        self.zh = language == "zh-CN"
        self.common = ZH_COMMON if self.zh else STOP
        self.topics = ZH_TOPICS if self.zh else EN_TOPICS
        if self.zh:  # two-character words of random Han characters: bigram statistics, not meaning
            made = {chr(rng.randint(0x4E00, 0x9FA5)) + chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(size)}
        else:
            made = {"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(size)}
        self.words = sorted(made | set(self.topics))
        rng.shuffle(self.words)  # topic words land anywhere in the Zipf ranks
        self.weights = _zipf(len(self.words))
        self.common_weights = _zipf(len(self.common))

    def sentence(self, rng: random.Random, topics: list[str]) -> str:
        words = []
        for _ in range(rng.randint(6, 14)):
            roll = rng.random()
            if roll < 0.35:
                words.append(rng.choices(self.common, cum_weights=self.common_weights)[0])
            elif roll < 0.40:
                words.append(rng.choice(topics))
            else:
                words.append(rng.choices(self.words, cum_weights=self.weights)[0])
        return ("" if self.zh else " ").join(words) + ("。" if self.zh else ".")


def _row(values: dict, now: float) -> dict:
    values = {**values, "pages": [], "queues": [], "published": True}
    return {**values, **derived_columns(values), "id": uuid.uuid4().hex, "created_at": now, "updated_at": now}


def _uniform_article(rng: random.Random, language: str, now: float) -> dict:
    words = ZH if language == "zh-CN" else EN + STOP
    join = "" if language == "zh-CN" else " "
    title = join.join(rng.choices(words, k=rng.randint(3, 6)))
    sentences = [join.join(rng.choices(words, k=rng.randint(6, 12))) + ("。" if language == "zh-CN" else ".")
                 for _ in range(rng.randint(8, 20))]
    return _row({"title": title, "body": "\n\n".join(sentences), "language": language,
                 "tags": rng.sample(words, 2)}, now)


def _realistic_article(rng: random.Random, vocabulary: Vocabulary, language: str, now: float) -> dict:
    topics = rng.sample(vocabulary.topics, rng.randint(2, 3))
    title = ("" if vocabulary.zh else " ").join(topics)
    sentences = [vocabulary.sentence(rng, topics) for _ in range(rng.randint(8, 20))]
    return {**_row({"title": title, "body": "\n\n".join(sentences), "language": language,
                    "tags": topics[:2]}, now), "topics": topics}


def _uniform_topic(rng: random.Random) -> tuple[str, str, list[str]]:
    kind = rng.random()
    if kind < 0.5:  # as a customer writes Chinese: words and particles, no spaces
        parts = rng.sample(ZH, rng.randint(1, 3))
        return "".join(p + rng.choice(FILLERS) for p in parts), "zh-CN", parts
    words = rng.sample(EN, rng.randint(1, 3))
    if kind < 0.75:
        return " ".join(words), "en", words
    return " ".join(words)[:-2], "en", words  # still typing the last word: a prefix


def _realistic_topic(rng: random.Random, articles: list[dict]) -> tuple[str, str, list[str]]:
    """One article's topics, as its reader would ask for them."""
    article = rng.choice(articles)
    asked = rng.sample(article["topics"], rng.randint(1, len(article["topics"])))
    if article["language"] == "zh-CN":
        return "".join(rng.choice(FILLERS) + word for word in asked) + rng.choice(["", "吗", "了"]), "zh-CN", asked
    words = list(asked)
    if rng.random() < 0.15:  # a word no article has (a typo, a brand): all of them find nothing
        words.insert(rng.randrange(len(words) + 1), "".join(rng.choices("xqzj", k=6)))
    if rng.random() < 0.25:
        return " ".join(words)[:-2], "en", asked  # still typing the last word: a prefix
    return " ".join(words), "en", asked


def _previous_search(conn, terms: list[str], prefix: str | None, language: str, limit: int = 20) -> list:
    """The baseline: kb_search before issue 14's work: any term (OR), every match ranked."""
    if conn.dialect.name == "postgresql":
        query = " | ".join("'" + t.replace("'", "''") + "'" + (":*" if t == prefix else "") for t in terms)
        statement = ("SELECT a.id, a.title, 4 * ts_rank(a.search_title, q) + ts_rank(a.search, q) AS rank "
                     "FROM kb_articles a, to_tsquery('simple', :q) q "
                     "WHERE a.search @@ q AND a.published AND a.language = :language "
                     "ORDER BY rank DESC, a.updated_at DESC LIMIT :limit")
    else:
        query = " OR ".join('"' + t.replace('"', '""') + '"' + ("*" if t == prefix else "") for t in terms)
        statement = ("SELECT a.id, a.title, bm25(kb_fts, 0.0, 4.0, 1.0) AS rank FROM kb_fts "
                     "JOIN kb_articles a ON a.id = kb_fts.id WHERE kb_fts MATCH :q AND a.published "
                     "AND a.language = :language ORDER BY rank, a.updated_at DESC LIMIT :limit")
    return [dict(row._mapping) for row in conn.execute(text(statement), {"q": query, "language": language,
                                                                            "limit": limit})]


def _title_has(results: list[dict], asked: list[str]) -> bool:
    return bool(results) and all(word in results[0]["title"].lower() for word in asked)


async def _load(repo: Repository, args) -> list[dict]:
    rng = random.Random(args.seed)
    now = time.time()
    vocabularies = {language: Vocabulary(rng, language) for language in ("en", "zh-CN")}
    rows = []
    for i in range(args.articles):
        language = "zh-CN" if i % 2 else "en"
        rows.append(_realistic_article(rng, vocabularies[language], language, now) if args.corpus == "realistic"
                    else _uniform_article(rng, language, now))
    for start in range(0, len(rows), CHUNK):
        chunk = [{k: v for k, v in row.items() if k != "topics"} for row in rows[start:start + CHUNK]]

        def write(conn, chunk=chunk):
            conn.execute(ARTICLES.insert(), chunk)
            for row in chunk:
                index_article(conn, row["id"], row["terms"], new=True)

        await repo.database.write(write)
    if repo.database.dialect == "postgresql":
        await repo.database.write(lambda conn: conn.exec_driver_sql("ANALYZE kb_articles"))
    return rows


async def _measure(repo: Repository, articles: list[dict], args) -> dict:
    rng = random.Random(args.seed + 1)
    topics = [_realistic_topic(rng, articles) if args.corpus == "realistic" else _uniform_topic(rng)
              for _ in range(args.queries)]
    for topic, language, _ in topics[:30]:  # warm the caches and the prepared statements
        await repo.kb_search(topic, language=language)
    current: dict[str, list] = {"ms": [], "found": [], "title": []}
    before: dict[str, list] = {"ms": [], "found": [], "title": []}
    for topic, language, asked in topics:
        started = time.perf_counter()
        results = await repo.kb_search(topic, language=language)
        current["ms"].append((time.perf_counter() - started) * 1000)
        current["found"].append(bool(results))
        current["title"].append(_title_has(results, asked))
        if args.baseline:
            terms, prefix = query_terms(topic)
            started = time.perf_counter()
            results = await repo.database.read_fast(_previous_search, terms, prefix, language)
            before["ms"].append((time.perf_counter() - started) * 1000)
            before["found"].append(bool(results))
            before["title"].append(_title_has(results, asked))
    return {name: {**summary(f["ms"]), "with_results": sum(f["found"]) / len(f["found"]),
                   "title_first": sum(f["title"]) / len(f["title"])}
            for name, f in (("current", current), ("baseline", before)) if f["ms"]}


async def _run(url: str, args) -> dict:
    await upgrade_database_async(url)
    async with Repository.open(url) as repo:
        started = time.perf_counter()
        articles = await _load(repo, args)
        loaded = time.perf_counter() - started
        figures = await _measure(repo, articles, args)
    return {**figures, "load_s": loaded}


def _print(name: str, figures: dict, args) -> None:
    print(f"{name}: {args.articles} articles ({args.corpus}) loaded in {figures['load_s']:.1f} s")
    labels = {"current": "kb_search (AND, then OR; bounded rank)", "baseline": "baseline (OR, every match ranked)"}
    for key, label in labels.items():
        if key in figures:
            f = figures[key]
            print(f"  {label:<40} p50 {f['p50']:7.2f} ms  p99 {f['p99']:7.2f} ms  max {f['max']:7.2f} ms  "
                  f"found {f['with_results']:.0%}  first title has the topic {f['title_first']:.0%}")


def _json(prefix: str, figures: dict) -> dict:
    out = {}
    for key, name in (("current", ""), ("baseline", "baseline_")):
        if key in figures:
            f = figures[key]
            out.update({f"{prefix}_{name}p50_ms": f["p50"], f"{prefix}_{name}p99_ms": f["p99"],
                        f"{prefix}_{name}with_results_share": f["with_results"],
                        f"{prefix}_{name}title_first_share": f["title_first"]})
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--corpus", choices=("realistic", "uniform"), default="realistic")
    parser.add_argument("--baseline", action="store_true", help="also the search before issue 14, in turns")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--postgres-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    result: dict = {"articles": args.articles, "queries": args.queries, "corpus": args.corpus}
    if args.db in ("postgresql", "both"):
        url, name = await _postgres_database(args.postgres_url, None)
        try:
            figures = await _run(url, args)
        finally:
            await _drop_postgres(args.postgres_url, name)
        _print("PostgreSQL", figures, args)
        result.update(_json("pg", figures))
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as directory:
            figures = await _run(f"sqlite+aiosqlite:///{Path(directory) / 'kb.db'}", args)
        _print("SQLite", figures, args)
        result.update(_json("sqlite", figures))
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
