"""Security probes a stranger or a customer could send, against a real ``otodesk demo``
process (issue 9: items 19, 23, 25, 5)."""

from __future__ import annotations

import json

import httpx
import pytest
import websockets

from desktop.customers.identity import user_hash
from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import CustomerBot, login_cookie
from tests.helpers.server import running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRET = "customer-security-identity"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("customer-security"),
                        env={"OTODESK_IDENTITY_SECRET": SECRET}) as server:
        yield server


async def _signed_in(base_url: str, user_id: str, *, token: str | None = None, **profile) -> tuple[CustomerBot, dict]:
    """A widget on a page of the site that identifies its signed-in user ``user_id``."""
    customer = await CustomerBot.start(base_url, token=token)
    ack = await customer.command("identify", user_id=user_id, user_hash=user_hash(SECRET, user_id), **profile)
    return customer, ack


async def _hello(base_url: str, token: str) -> dict:
    """The server's first answer to a hello with this very token."""
    async with websockets.connect(base_url.replace("http", "ws") + "/ws/customer") as socket:
        await socket.send(json.dumps({"type": "hello", "token": token}))
        return json.loads(await socket.recv())


def _me(token: str | None = None, *, visitor: str | None = None) -> dict[str, str]:
    return {"X-Otodesk-Me": token} if token else {"X-Otodesk-Visitor": visitor or ""}


def _widget(ack: dict, customer: CustomerBot) -> dict[str, str]:
    """What the widget sends to My data (the visitor token too, as it used to)."""
    return {"X-Otodesk-Me": ack.get("me_token", ""), "X-Otodesk-Visitor": customer.token}


async def _visitor(base_url: str) -> str:
    async with httpx.AsyncClient(base_url=base_url) as http:
        return (await http.post("/api/visitor", json={})).json()["token"]


async def _next(socket, kind: str) -> dict:
    while True:
        message = json.loads(await socket.recv())
        if message["type"] == kind:
            return message


# -- item 23: inputs that reached a traceback ------------------------------------------------

async def test_binary_and_deep_frames_are_protocol_errors_and_the_socket_stays(server):
    deep = '{"type": "set_context", "context": {"a": ' + "[" * 3000 + "]" * 3000 + "}}"
    deep_unknown = '{"type": "ping", "x": ' + "[" * 3000 + "]" * 3000 + "}"  # the error reads its id
    async with websockets.connect(server.base_url.replace("http", "ws") + "/ws/customer") as socket:
        await socket.send(b'{"type": "ping"}')  # before hello
        assert (await _next(socket, "error"))["code"] == "bad_message"
        await socket.send(deep)
        assert (await _next(socket, "error"))["code"] == "bad_json"
        await socket.send(deep_unknown)
        assert (await _next(socket, "error"))["code"] == "bad_message"
        await socket.send(json.dumps({"type": "hello", "token": await _visitor(server.base_url),
                                      "url": "http://shop.test/", "title": "Shop"}))
        await _next(socket, "welcome")
        await socket.send(deep)
        error = await _next(socket, "error")
        assert (error["code"], error["message"]) == ("bad_json", "JSON nested too deeply")
        await socket.send(deep_unknown)
        assert (await _next(socket, "error"))["code"] == "bad_message"
        await socket.send(b"\x00\xff binary")
        error = await _next(socket, "error")
        assert error["code"] == "bad_message" and "binary" in error["message"]
        await socket.send(json.dumps({"type": "ping"}))
        assert (await _next(socket, "pong"))["type"] == "pong"  # still open and useful
    assert "Traceback" not in server.log()


async def test_non_ascii_tokens_and_hashes_are_refused_not_crashed_on(server):
    async with httpx.AsyncClient(base_url=server.base_url, follow_redirects=False) as http:
        await http.get("/login")
        login = await http.post("/login", data={"csrf_token": "é" * 22, "username": "alice",
                                                "password": DEMO_PASSWORD})
        assert login.status_code == 400 and "session expired" in login.text
    cookie = await login_cookie(server.base_url, "alice", DEMO_PASSWORD)
    async with httpx.AsyncClient(base_url=server.base_url, follow_redirects=False,
                                 headers={"Cookie": cookie}) as http:
        rest = await http.post("/api/v1/customers", json={"name": "X"},
                               headers={"X-CSRF-Token": "ü".encode() * 32})
        assert rest.status_code == 403 and rest.json()["error"]["code"] == "csrf"
        logout = await http.post("/logout", data={"csrf_token": "ø" * 64})
        assert logout.status_code == 400
    customer = await CustomerBot.start(server.base_url)
    try:
        mark = customer.mark()
        await customer.send({"type": "identify", "id": "i1", "user_id": "nova-mei", "user_hash": "é" * 64})
        error = await customer.wait_for("error", start=mark)
        assert error["code"] == "identity_unverified"
    finally:
        await customer.close()
    assert "Traceback" not in server.log()


# -- item 19: a visitor token outlived "sign out" ---------------------------------------------

async def test_my_data_needs_the_short_lived_token_and_sign_out_revokes_the_visitor(server):
    customer, ack = await _signed_in(server.base_url, "u-19", name="Nia Okafor", email="nia@example.com")
    old_token = customer.token
    await customer.close()
    assert ack["verified"] is True
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        # The year-long visitor token recognises the browser; it does not open the record.
        assert (await http.get("/api/me", headers=_me(visitor=old_token))).status_code == 401
        assert ack["me_token"]
        mine = await http.get("/api/me", headers=_me(ack["me_token"]))
        assert mine.status_code == 200 and mine.json()["customer"]["name"] == "Nia Okafor"

        # The site's sign-out (otodesk.reset()) revokes the old token on the server.
        assert (await http.post("/api/me/sign-out", headers=_me(visitor=old_token))).status_code == 204
        for method, path in (("GET", "/api/me"), ("PATCH", "/api/me"), ("POST", "/api/me/erase")):
            refused = await http.request(method, path, headers=_me(ack["me_token"]), json={"name": "X"})
            assert refused.status_code == 401, (method, path)
            assert refused.json()["error"]["code"] == "signed_out"
        # A copy of the old token can't open a socket to get a new My data token either.
        assert (await _hello(server.base_url, old_token))["code"] == "unauthorized"
        renewed = (await http.post("/api/visitor", json={"token": old_token})).json()
        assert renewed["token"] != old_token  # a new anonymous visitor, not the signed-out one
    # Still the same person when they sign in again, from a fresh visitor.
    again, ack = await _signed_in(server.base_url, "u-19")
    await again.close()
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        assert (await http.get("/api/me", headers=_me(ack["me_token"]))).json()["customer"]["name"] == "Nia Okafor"


# -- item 5: corrections that didn't stick, erased data that came back ------------------------

async def test_the_customers_correction_wins_over_the_sites_next_identify(server):
    profile = {"name": "Mei Chen", "email": "mei.chen@example.com", "phone": "+14155552671"}
    customer, ack = await _signed_in(server.base_url, "u-5a", **profile)
    try:
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            saved = await http.patch("/api/me", headers=_widget(ack, customer),
                                     json={"name": "Mei Lin Chen", "email": "mei@example.org"})
            assert saved.status_code == 200
        # The next page: the site sends its own profile again.
        again = await customer.command("identify", user_id="u-5a", user_hash=user_hash(SECRET, "u-5a"), **profile)
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            me = (await http.get("/api/me", headers=_widget(again, customer))).json()
        assert (me["customer"]["name"], me["customer"]["email"]) == ("Mei Lin Chen", "mei@example.org")
        assert me["customer"]["phone"] == "+14155552671"  # not corrected: the site's still counts
        assert again["corrected"] == {"name": "Mei Lin Chen", "email": "mei@example.org"}  # the site is told
    finally:
        await customer.close()


async def test_erasure_signs_out_and_identify_does_not_recreate_the_person(server):
    profile = {"name": "Ravi Shah", "email": "ravi.shah@example.com", "phone": "+14155550142"}
    customer, ack = await _signed_in(server.base_url, "u-5b", **profile)
    await customer.close()
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        erased = await http.post("/api/me/erase", headers=_widget(ack, customer))
        assert erased.status_code == 200

    # The next page load: a new visitor, and the site still vouches for the same user.
    fresh, again = await _signed_in(server.base_url, "u-5b", **profile)
    try:
        await fresh.send({"type": "page_view", "url": "http://shop.test/account", "title": "Account"})
        await fresh.command("set_context", context={"page": "account"})  # the page view is in
    finally:
        await fresh.close()
    cookie = await login_cookie(server.base_url, "alice", DEMO_PASSWORD)
    async with httpx.AsyncClient(base_url=server.base_url, headers={"Cookie": cookie}) as http:
        for query in ("ravi.shah@example.com", "+14155550142", "Ravi Shah"):
            found = (await http.get("/api/v1/customers", params={"q": query})).json()
            assert found["items"] == [], query
    assert again["verified"] is False and again["erased"] is True and "me_token" not in again
    # The erased browser was signed out: its token opens nothing.
    assert erased.json()["signed_out"] is True
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        assert (await http.get("/api/me", headers=_widget(ack, customer))).status_code == 401
    assert (await _hello(server.base_url, customer.token))["code"] == "unauthorized"


async def test_an_open_socket_of_a_signed_out_or_erased_browser_ends(server):
    """Another tab of the browser still had its socket open: it hears so and is ended."""
    for user, ending in (("u-19b", "sign-out"), ("u-5c", "erase")):
        customer, ack = await _signed_in(server.base_url, user, name="Tab Two")
        other_tab = await CustomerBot.start(server.base_url, token=customer.token)
        try:
            mark = other_tab.mark()
            async with httpx.AsyncClient(base_url=server.base_url) as http:
                if ending == "sign-out":
                    assert (await http.post("/api/me/sign-out", headers=_me(visitor=customer.token))).status_code == 204
                else:
                    assert (await http.post("/api/me/erase", headers=_widget(ack, customer))).status_code == 200
            told = await other_tab.wait_for("signed_out", start=mark)
            assert told["reason"] == ("signed_out" if ending == "sign-out" else "erased")
            await other_tab.send({"type": "page_view", "url": "http://shop.test/after", "title": "After"})
            refused = await other_tab.wait_for("error", start=mark)
            assert refused["code"] == "unauthorized", ending
        finally:
            await other_tab.close()
            await customer.close()
    assert "Traceback" not in server.log()
