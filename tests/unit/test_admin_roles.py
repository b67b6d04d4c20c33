"""The admin console and its API offer every staff role the repository knows (records.ROLES):
the planner role (the rules workspace, docs/rules.md) was missing from both, so an admin could
not make a planner, and saving a planner's edit dialog (a select with no matching option) sent
an empty role the API refused."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from desktop.repository.records import ROLES
from desktop.web.admin import UserIn, UserPatch

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("role", ROLES)
def test_the_admin_api_takes_every_role(role: str) -> None:
    added = msgspec.json.decode(msgspec.json.encode({"username": "someone", "password": "password-1",
                                                     "display_name": "Someone", "role": role}), type=UserIn)
    changed = msgspec.json.decode(msgspec.json.encode({"role": role}), type=UserPatch)
    assert added.role == changed.role == role


def test_the_consoles_role_menu_offers_every_role_in_every_language() -> None:
    page = (ROOT / "desktop" / "templates" / "admin.html").read_text()
    menu = re.search(r'<select name="role"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert set(re.findall(r'<option value="([a-z]+)"', menu)) == set(ROLES)
    for locale in ("en", "zh-CN", "zh-TW"):
        catalogue = (ROOT / "static" / "admin" / f"messages-{locale}.js").read_text()
        for role in ROLES:
            assert f'"users.role_{role}":' in catalogue, (locale, role)
