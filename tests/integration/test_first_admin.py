"""The first admin of a fresh install (issue 14): ``otodesk serve`` with no admin prints a one-time
link; it makes the admin once, and is refused after; with an admin made by
``otodesk user add --role admin`` (or the demo's) no link is printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers.server import ServerProcess, running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"(http://\S+/setup\?token=\S+)")


def printed_link(server: ServerProcess, timeout: float = 5.0) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = LINK.search(server.log())
        if found or "Application startup complete" in server.log():
            return found.group(1) if found else None
        time.sleep(0.05)
    return None


async def signed_in_admin(base_url: str, username: str, password: str) -> httpx.AsyncClient:
    """Signed in through the form, with the admin page's CSRF token for changes."""
    http = httpx.AsyncClient(base_url=base_url)
    token = re.search(r'name="csrf_token" value="([^"]+)"', (await http.get("/login")).text).group(1)
    signed = await http.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                             "next": "/admin"}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    page = await http.get("/admin")
    assert page.status_code == 200, page.text
    http.headers["x-csrf-token"] = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    return http


def setup_form(link: str, **fields: str) -> dict[str, str]:
    token = link.split("token=", 1)[1]
    return {"token": token, "username": "root", "display_name": "Ro Ot", "password": "first-admin-1",
            "password_again": "first-admin-1", **fields}


async def test_the_printed_link_makes_the_first_admin_once(tmp_path):
    with running_server(tmp_path, seed=False) as server:
        link = printed_link(server)
        assert link is not None and link.startswith(server.base_url), server.log()
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            page = await http.get(link)
            assert page.status_code == 200 and 'data-testid="setup-form"' in page.text
            assert page.headers["cache-control"] == "no-store"
            forged = await http.post("/setup", data=setup_form(link[:-2] + "xx"))
            assert forged.status_code == 410 and 'data-testid="setup-invalid"' in forged.text
            mismatch = await http.post("/setup", data=setup_form(link, password_again="something-else"))
            assert mismatch.status_code == 422 and 'data-i18n="setup.error.mismatch"' in mismatch.text
            made = await http.post("/setup", data=setup_form(link))
            assert made.status_code == 303 and made.headers["location"] == "/login?next=/admin&ready=1"
            signin = await http.get(made.headers["location"])  # says the account is ready
            assert 'data-testid="login-admin-ready"' in signin.text and 'value="/admin"' in signin.text
            assert 'data-testid="login-admin-ready"' not in (await http.get("/login")).text
            # Used: neither the page nor the form takes it again, not even for another name.
            assert (await http.get(link)).status_code == 410
            again = await http.post("/setup", data=setup_form(link, username="mallory"))
            assert again.status_code == 410 and 'data-testid="setup-invalid"' in again.text
        root = await signed_in_admin(server.base_url, "root", "first-admin-1")
        try:
            users = (await root.get("/api/v1/admin/users")).json()["items"]
            assert [(u["username"], u["role"]) for u in users] == [("root", "admin")]
        finally:
            await root.aclose()
    # Started again with its admin: no link.
    with running_server(tmp_path, seed=False) as server:
        assert printed_link(server) is None


async def test_no_link_once_user_add_made_an_admin(tmp_path):
    env = {**os.environ, "OTODESK_VAR_DIR": str(tmp_path)}
    added = subprocess.run([sys.executable, "-m", "desktop.cli", "user", "add", "boss", "--role", "admin",
                            "--password", "boss-password-1"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    with running_server(tmp_path, seed=False) as server:
        assert printed_link(server) is None
        boss = await signed_in_admin(server.base_url, "boss", "boss-password-1")
        await boss.aclose()
