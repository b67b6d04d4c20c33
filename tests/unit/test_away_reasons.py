"""The reasons the router itself sets an agent away for (desktop/routing: just signed in, a
missed offer, no desk open) are codes the desk and the wall translate (static/desk/statebar.js,
static/supervisor/wall.js); "desk closed" was missing, so a Chinese wall showed it in English
beside 离开. The catalogues' own test (tests/js/staff_catalogues.test.mjs) checks each key is in
every language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from desktop.routing.reachability import AWAY_WHILE_GONE

ROOT = Path(__file__).resolve().parents[2]
ROUTER_REASONS = ("login", "missed offer", AWAY_WHILE_GONE)


@pytest.mark.parametrize("page", ["static/desk/statebar.js", "static/supervisor/wall.js"])
def test_every_reason_the_router_gives_has_words(page: str) -> None:
    table = re.search(r"const AWAY_REASONS = \{(.*?)\};", (ROOT / page).read_text(), re.S).group(1)
    codes = {match.group(1) or match.group(2) for match in re.finditer(r'(?:"([^"]+)"|(\w+)):\s*"away\.\w+"', table)}
    assert set(ROUTER_REASONS) <= codes, set(ROUTER_REASONS) - codes
