"""Security probes a stranger or a customer could send, against a real ``otodesk demo``
process (issue 9: items 19, 23, 25, 5)."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import websockets

from desktop.repository.demo import DEMO_PASSWORD
from signaling.client import CustomerBot, login_cookie
from tests.helpers.server import running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("customer-security")) as server:
        yield server


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
