"""The demo shop's sign-in: the page carries what ``otodesk.identify`` needs, with the HMAC
computed on the server, only for a signed-in shopper, and only from the shop's own forms."""

from __future__ import annotations

import json
import re

import pytest
from starlette.testclient import TestClient

from desktop.app import create_app
from desktop.customers.identity import user_hash, verify_user_hash
from desktop.settings import Settings

SECRET = "shop-identity-secret"


def _app(tmp_path, identity_secret: str) -> TestClient:
    settings = Settings(var_dir=tmp_path / "var", database_url=f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
                        secret_key="shop-secret", identity_secret=identity_secret, process_id="shop-test")
    return TestClient(create_app(settings), base_url="http://127.0.0.1:8000")


def _identify(html: str) -> dict | None:
    found = re.search(r'<script type="application/json" id="nova-identify">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else None


@pytest.fixture
def shop(tmp_path):
    with _app(tmp_path, SECRET) as client:
        yield client


def test_signed_in_pages_carry_the_servers_hmac(shop: TestClient) -> None:
    assert _identify(shop.get("/").text) is None  # anonymous: nothing to vouch for
    page = shop.get("/account").text
    assert 'data-testid="sign-in-nova-mei"' in page and "no-identity-secret" not in page

    signed = shop.post("/account/sign-in", data={"user_id": "nova-mei"}, follow_redirects=False)
    assert signed.status_code == 303 and "httponly" in signed.headers["set-cookie"].lower()
    for path in ("/", "/cart", "/account", "/product/aurora-laptop-14"):
        data = _identify(shop.get(path).text)
        assert data is not None, path
        assert (data["id"], data["name"], data["email"]) == ("nova-mei", "Mei Chen", "mei.chen@example.com")
        assert data["hmac"] == user_hash(SECRET, "nova-mei") and verify_user_hash(SECRET, data["id"], data["hmac"])

    shop.post("/account/sign-out")
    assert _identify(shop.get("/").text) is None


def test_forged_cookies_other_sites_and_unknown_accounts_are_refused(shop: TestClient) -> None:
    shop.cookies.set("nova_account", "nova-mei")  # not signed by the server
    assert _identify(shop.get("/").text) is None
    shop.cookies.clear()
    other_site = shop.post("/account/sign-in", data={"user_id": "nova-mei"},
                           headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert other_site.status_code == 403 and "set-cookie" not in other_site.headers
    assert shop.post("/account/sign-in", data={"user_id": "nobody"}).status_code == 400
    assert _identify(shop.get("/").text) is None


def test_without_an_identity_secret_nothing_is_vouched_for(tmp_path) -> None:
    with _app(tmp_path, "") as shop:
        assert "no-identity-secret" in shop.get("/account").text
        shop.post("/account/sign-in", data={"user_id": "nova-mei"})
        page = shop.get("/").text
        assert "Mei Chen" in page and _identify(page) is None
