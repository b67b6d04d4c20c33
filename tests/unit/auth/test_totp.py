"""The second factor's pure core (desktop/auth/totp.py): codes by time step, the drift window,
recovery codes and their digests, the sealed secret."""

from __future__ import annotations

import pyotp
import pytest

from desktop.auth import totp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_800_000_015.0  # 15 s into a step


def test_a_code_names_its_step_within_one_step_either_side() -> None:
    step = int(NOW // 30)
    assert totp.code_at(SECRET, NOW) == pyotp.TOTP(SECRET).at(NOW)  # what an app shows
    assert totp.matching_step(SECRET, totp.code_at(SECRET, NOW), now=NOW) == step
    assert totp.matching_step(SECRET, totp.code_at(SECRET, NOW - 30), now=NOW) == step - 1
    assert totp.matching_step(SECRET, totp.code_at(SECRET, NOW + 30), now=NOW) == step + 1
    # Two steps away is too old (or too early), whatever the code.
    assert totp.matching_step(SECRET, totp.code_at(SECRET, NOW - 60), now=NOW) is None
    assert totp.matching_step(SECRET, totp.code_at(SECRET, NOW + 60), now=NOW) is None
    # Spaces as some apps show them ("123 456") are fine; anything not six digits is not a code.
    code = totp.code_at(SECRET, NOW)
    assert totp.matching_step(SECRET, f"{code[:3]} {code[3:]}", now=NOW) == step
    for bad in ("", "12345", "1234567", "abcdef", "１２３４５６", code + "0"):
        assert totp.matching_step(SECRET, bad, now=NOW) is None


def test_another_secret_gives_other_codes() -> None:
    other = totp.new_secret()
    assert len(other) == 32 and other != totp.new_secret()
    assert set(other) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert totp.matching_step(other, totp.code_at(other, NOW), now=NOW) == int(NOW // 30)


def test_the_uri_is_what_an_app_scans() -> None:
    uri = totp.provisioning_uri(SECRET, account="ada", issuer="otodesk")
    assert uri.startswith("otpauth://totp/otodesk:ada?") and f"secret={SECRET}" in uri and "issuer=otodesk" in uri
    assert pyotp.parse_uri(uri).now() == pyotp.TOTP(SECRET).now()


def test_recovery_codes_are_ten_distinct_and_typed_loosely() -> None:
    codes = totp.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert len(code) == 11 and code[5] == "-"
        raw = totp.normalise_recovery_code(code)
        assert raw == code.replace("-", "")
        # Without the dash, in capitals, with spaces: the same code.
        assert totp.normalise_recovery_code(f" {code.upper().replace('-', ' ')} ") == raw
        assert totp.looks_like_recovery_code(code) and not totp.looks_like_totp(code)
    assert totp.normalise_recovery_code("0o1il-abcde") == "00111abcde"  # o→0, i/l→1
    for bad in ("", "abcde", "abcde-abcde-a", "abcde_abcdu", "123456"):
        assert totp.normalise_recovery_code(bad) is None, bad


def test_the_box_seals_secrets_and_binds_digests_to_account_and_key() -> None:
    box = totp.SecretBox("key-one")
    sealed = box.seal(SECRET)
    assert SECRET not in sealed and box.open(sealed) == SECRET
    assert box.seal(SECRET) != sealed  # a fresh IV each time
    assert totp.SecretBox("key-two").open(sealed) is None  # another key reads nothing
    assert box.open(sealed[:-4] + "AAAA") is None and box.open(None) is None and box.open("junk") is None
    digest = box.recovery_digest("agent-1", "abcde12345")
    assert digest == box.recovery_digest("agent-1", "abcde12345") and "abcde12345" not in digest
    assert digest != box.recovery_digest("agent-2", "abcde12345")
    assert digest != totp.SecretBox("key-two").recovery_digest("agent-1", "abcde12345")
    with pytest.raises(ValueError):
        totp.SecretBox("")
