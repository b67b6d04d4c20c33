"""The knowledge base through HTTP against a real ``otodesk demo`` process: the admin API
(admins only, audited, sanitised, in the OpenAPI document) and the widget's public reads
(published only, the site's origin, a rate limit, views and answers on the timeline)."""

from __future__ import annotations

import time
from html.parser import HTMLParser

import httpx
import pytest

from signaling.client import CustomerBot
from tests.helpers.server import running_server
from tests.integration.test_admin_api import staff_client

pytestmark = pytest.mark.asyncio(loop_scope="module")

SITE = "https://shop.example"
READS = 40  # a minute, per address (OTODESK_KB_READS_PER_MINUTE)


def _tags_and_links(html: str) -> tuple[set[str], list[str]]:
    tags, hrefs = set(), []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.add(tag)
            hrefs.extend(value for name, value in attrs if name == "href")

    Parser().feed(html)
    return tags, hrefs


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("kb"), env={
            "OTODESK_ALLOWED_ORIGINS": SITE, "OTODESK_KB_READS_PER_MINUTE": str(READS)}) as server:
        yield server


async def test_admins_manage_articles_audited_and_sanitised(server):
    admin = await staff_client(server.base_url, "admin")
    alice = await staff_client(server.base_url, "alice")
    public = httpx.AsyncClient(base_url=server.base_url)
    try:
        assert (await alice.get("/api/v1/admin/kb/articles")).status_code == 403
        assert (await alice.post("/api/v1/admin/kb/articles", json={})).status_code == 403
        # The demo's articles, in English and Chinese.
        seeded = (await admin.get("/api/v1/admin/kb/articles")).json()["items"]
        assert {a["language"] for a in seeded} == {"en", "zh-CN"} and len(seeded) >= 6

        made = await admin.post("/api/v1/admin/kb/articles", json={
            "title": "Gift cards", "language": "en", "tags": ["gift"], "pages": ["/plans*"], "queues": ["sales"],
            "body": "Redeem at **checkout**. <script>alert(1)</script> [click](javascript:alert(1)) "
                    "[bad](JaVaScRiPt:alert(1)) <img src=x onerror=alert(1)> [ok](https://example.com/gc)"})
        assert made.status_code == 201, made.text
        article = made.json()
        html = article["html"]
        tags, hrefs = _tags_and_links(html)
        assert tags <= {"p", "strong", "a"} and hrefs == ["https://example.com/gc"]
        assert "&lt;script&gt;" in html  # typed HTML is shown as text
        assert '<a href="https://example.com/gc" target="_blank" rel="noopener noreferrer nofollow">ok</a>' in html
        assert article["published"] is False

        bad = [({"title": "x", "language": "fr", "body": ""}, "invalid"),
               ({"title": "x", "language": "en", "body": "", "queues": ["nope"]}, "invalid"),
               ({"title": "x", "language": "en", "body": "", "pages": ["checkout"]}, "invalid"),
               ({"title": " ", "language": "en", "body": ""}, "invalid")]
        for body, code in bad:
            refused = await admin.post("/api/v1/admin/kb/articles", json=body)
            assert refused.status_code == 422 and refused.json()["error"]["code"] == code, (body, refused.text)

        one = f"/api/v1/admin/kb/articles/{article['id']}"
        # Unpublished: the widget can't read it.
        assert (await public.get(f"/api/kb/articles/{article['id']}")).status_code == 404
        assert (await admin.post(f"{one}/publish")).json()["published"] is True
        assert (await public.get(f"/api/kb/articles/{article['id']}")).status_code == 200
        changed = await admin.put(one, json={"title": "Gift cards and vouchers", "language": "en",
                                             "body": "Redeem at checkout.", "published": True})
        assert changed.status_code == 200 and changed.json()["title"] == "Gift cards and vouchers"
        assert (await admin.post(f"{one}/unpublish")).json()["published"] is False
        assert (await admin.delete(one)).status_code == 204
        assert (await admin.get(one)).status_code == 404
        audit = (await admin.get("/api/v1/admin/audit", params={"target": f"kb:{article['id']}"})).json()["items"]
        assert [row["action"] for row in audit] == ["kb.delete", "kb.unpublish", "kb.update", "kb.publish", "kb.add"]
        assert audit[0]["actor_name"] == "admin" and audit[0]["before"]["title"] == "Gift cards and vouchers"

        document = (await public.get("/api/openapi.json")).json()
        assert document["paths"]["/api/v1/admin/kb/articles"]["post"]["x-otodesk-scope"] == "admin"
        assert "ArticleIn" in document["components"]["schemas"]
    finally:
        for http in (admin, alice, public):
            await http.aclose()


async def test_the_widget_reads_suggestions_and_answers_from_the_site_only(server):
    async with httpx.AsyncClient(base_url=server.base_url, headers={"origin": SITE}) as site:
        token = (await site.post("/api/visitor", json={})).json()["token"]
        # A topic typed in Chinese finds the Chinese article; on the checkout page it comes first.
        found = (await site.get("/api/kb/suggest", params={"q": "我的支付失败了", "locale": "zh-CN"})).json()["items"]
        assert found and found[0]["title"] == "支付失败怎么办" and len(found) <= 3
        by_page = (await site.get("/api/kb/suggest", params={
            "locale": "en", "url": "https://shop.example/checkout?step=2"})).json()["items"]
        assert [a["title"] for a in by_page] == ["My payment failed"]
        assert (await site.get("/api/kb/suggest", params={"q": "refund", "locale": "en"})).json()["items"][0][
            "title"] == "Returns and refunds"
        assert (await site.get("/api/kb/suggest", params={"locale": "xx"})).status_code == 422

        article_id = found[0]["id"]
        read = await site.get(f"/api/kb/articles/{article_id}", headers={"x-otodesk-visitor": token})
        assert read.status_code == 200 and "<strong>拒绝了银行卡</strong>" in read.json()["html"]
        answered = await site.post(f"/api/kb/articles/{article_id}/feedback", json={"solved": True},
                                   headers={"x-otodesk-visitor": token})
        assert answered.status_code == 204
        anonymous = await site.post(f"/api/kb/articles/{article_id}/feedback", json={"solved": True})
        assert anonymous.status_code == 401

    async with httpx.AsyncClient(base_url=server.base_url, headers={"origin": "https://evil.example"}) as evil:
        refused = await evil.get("/api/kb/suggest", params={"q": "refund"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "origin"


async def test_a_call_after_reading_counts_against_the_article_in_the_report(server):
    customer = await CustomerBot.start(server.base_url)
    admin = await staff_client(server.base_url, "admin")
    try:
        async with httpx.AsyncClient(base_url=server.base_url) as site:
            [article] = (await site.get("/api/kb/suggest", params={"q": "delivery", "locale": "en"})).json()["items"]
            visitor = {"x-otodesk-visitor": customer.token}
            assert (await site.get(f"/api/kb/articles/{article['id']}", headers=visitor)).status_code == 200
            assert (await site.post(f"/api/kb/articles/{article['id']}/feedback", json={"solved": False},
                                    headers=visitor)).status_code == 204
        await customer.command("call_me", name="Nadia", queue="support", topic="Delivery")
        report = (await admin.get("/api/v1/reports")).json()
        assert report["tables"]["kb_deflection"]["rows"] == []  # the last 7 full days: not today
        today = time.strftime("%Y-%m-%d", time.gmtime())
        report = (await admin.get("/api/v1/reports", params={"from": today, "to": today})).json()
        rows = {row["title"]: row for row in report["tables"]["kb_deflection"]["rows"]}
        assert rows["Delivery times"] | {"article_id": None} == {
            "article_id": None, "title": "Delivery times", "language": "en", "views": 1, "readers": 1, "solved": 0,
            "still_wanted_call": 1, "calls_after_reading": 1, "deflected": 0, "solved_rate": 0.0,
            "deflection_rate": 0.0}
        csv = await admin.get("/api/v1/reports/kb_deflection.csv", params={"from": today, "to": today})
        assert csv.status_code == 200 and "Delivery times,en,1,1,0,1,1,0.0,0.0" in csv.text
        # On the customer's timeline: the view, the answer and the call after it.
        card = (await admin.get("/api/v1/customers", params={"q": "Nadia"})).json()["items"][0]
        kinds = [e["kind"] for e in (await admin.get(f"/api/v1/customers/{card['id']}/events")).json()["items"]]
        assert {"kb_view", "kb_unsolved", "kb_call"} <= set(kinds)
    finally:
        await customer.close()
        await admin.aclose()


# Last: it spends this address's reads for the minute.
async def test_public_reads_are_rate_limited(server):
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        statuses = [(await http.get("/api/kb/suggest", params={"q": "delivery"})).status_code
                    for _ in range(READS + 5)]
        assert statuses.count(429) >= 5
        limited = await http.get("/api/kb/suggest", params={"q": "delivery"})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
