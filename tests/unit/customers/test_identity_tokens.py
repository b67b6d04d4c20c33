"""The customer's tokens: the short-lived My data token, constant-time comparison of any
text a client sends, API key scopes (issue 9 items 19, 23, 25)."""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner

from desktop.customers.identity import user_hash, verify_user_hash
from desktop.repository.apikeys import check_scopes
from desktop.auth.tokens import ME_MAX_AGE, Signer, tokens_equal


def test_my_data_token_is_short_lived_and_never_a_visitor_token(monkeypatch) -> None:
    signer = Signer("k")
    token = signer.me_token("visitor-1", "customer-1")
    assert signer.read_me(token) == ("visitor-1", "customer-1")
    assert signer.read_me(signer.visitor_token("visitor-1")) is None  # another salt
    assert signer.read_visitor(token) is None
    now = TimestampSigner.get_timestamp(TimestampSigner("k"))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + ME_MAX_AGE + 1)
    assert signer.read_me(token) is None


def test_non_ascii_tokens_are_wrong_tokens_not_errors() -> None:
    signer = Signer("k")
    assert not signer.check_csrf("sid", "é" * 64)
    assert not signer.check_csrf("sid", "\ud800")
    assert signer.check_csrf("sid", signer.csrf_token("sid"))
    assert not tokens_equal("abc", None) and not tokens_equal("", "")
    assert not verify_user_hash("s", "user-1", "é" * 64)
    assert verify_user_hash("s", "user-1", user_hash("s", "user-1").upper())


def test_scopes_are_checked_and_put_in_order() -> None:
    assert check_scopes(["erase", " READ "]) == ("read", "erase")
    with pytest.raises(ValueError, match="unknown: admin"):
        check_scopes(["read", "admin"])
    with pytest.raises(ValueError):
        check_scopes([""])
