"""The access log behind a trusted proxy, as a real uvicorn writes it (desktop/cli/logs.py):
the forwarded client's address, not ``127.0.0.1:0`` (X-Forwarded-For has no port and uvicorn
put 0); an untrusted peer's X-Forwarded-For is still ignored and the peer keeps its port."""

from __future__ import annotations

import logging
import re
import threading
import time

import httpx
import pytest
import uvicorn
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from desktop.cli.logs import configure_logging
from tests.helpers.server import free_port


async def ok(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


# As create_app wires it (Settings.trusted_proxies): /trusted believes the test's own address,
# /untrusted a proxy the request does not come from.
TRUSTED = ProxyHeadersMiddleware(ok, trusted_hosts=["127.0.0.1"])
UNTRUSTED = ProxyHeadersMiddleware(ok, trusted_hosts=["192.0.2.1"])


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return
    await (TRUSTED if scope["path"] == "/trusted" else UNTRUSTED)(scope, receive, send)


@pytest.fixture
def served():
    root = logging.getLogger()
    level = root.level
    configure_logging("text")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_config=None,
                                           proxy_headers=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)
        root.setLevel(level)
        logging.captureWarnings(False)
        for name in ("uvicorn.error", "uvicorn.access"):
            for each in [f for f in logging.getLogger(name).filters if type(f).__name__ == "ForwardedClientFilter"]:
                logging.getLogger(name).removeFilter(each)


def access_line(caplog, path: str) -> str:
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access" and f" {path} " in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]
    return lines[0]


def test_a_trusted_proxys_client_is_logged_by_its_address_and_no_made_up_port(served, caplog):
    caplog.set_level(logging.INFO)
    with httpx.Client(base_url=served) as client:
        client.get("/trusted", headers={"X-Forwarded-For": "203.0.113.7"}).raise_for_status()
        client.get("/untrusted", headers={"X-Forwarded-For": "203.0.113.7"}).raise_for_status()
    assert access_line(caplog, "/trusted").startswith('203.0.113.7 - "GET /trusted HTTP/1.1" 200')
    # Not believed: the peer as it connected, its real port kept.
    peer = re.match(r'127\.0\.0\.1:(\d+) - "GET /untrusted HTTP/1\.1" 200', access_line(caplog, "/untrusted"))
    assert peer and int(peer.group(1)) > 0, access_line(caplog, "/untrusted")


def test_the_filter_leaves_other_lines_alone():
    from desktop.cli.logs import ForwardedClientFilter

    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, "Started server process [%d]", (0,), None)
    ForwardedClientFilter().filter(record)
    assert record.getMessage() == "Started server process [0]"
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, '%s - "WebSocket %s" [accepted]',
                               ("::1:0", "/ws/customer"), None)
    ForwardedClientFilter().filter(record)
    assert record.getMessage() == '::1 - "WebSocket /ws/customer" [accepted]'
