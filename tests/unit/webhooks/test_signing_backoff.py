"""The pure parts of webhooks: the signature, the backoff, the receiver URL check."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from desktop.webhooks.backoff import delay, next_attempt_at
from desktop.webhooks.sender import payload
from desktop.webhooks.signing import BadSignature, sign, signature_header, verify
from desktop.webhooks.targets import TargetRefused, check_url

SECRET = "whsec_test"
BODY = b'{"id":"evt_1","type":"callback.ended","data":{}}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1700000000, BODY) == expected
    assert signature_header(SECRET, 1700000000, BODY) == f"t=1700000000,v1={expected}"


def test_verify_accepts_its_own_header_and_any_matching_v1():
    header = signature_header(SECRET, 1700000000, BODY)
    assert verify(SECRET, header, BODY, now=1700000010) == 1700000000
    assert verify(SECRET, f"{header},v1={'0' * 64}", BODY, now=1700000000) == 1700000000


@pytest.mark.parametrize("header, body, now, why", [
    (signature_header(SECRET, 1700000000, BODY), BODY + b" ", 1700000000, "no signature matches"),
    (signature_header("whsec_other", 1700000000, BODY), BODY, 1700000000, "no signature matches"),
    (signature_header(SECRET, 1700000000, BODY), BODY, 1700000301, "tolerance"),
    ("v1=abc", BODY, 1700000000, "must be"),
    ("t=1700000000", BODY, 1700000000, "must be"),
    ("", BODY, 1700000000, "must be"),
])
def test_verify_refuses(header, body, now, why):
    with pytest.raises(BadSignature, match=why):
        verify(SECRET, header, body, now=now)


def test_a_timestamp_changed_in_the_header_breaks_the_signature():
    header = signature_header(SECRET, 1700000000, BODY).replace("t=1700000000", "t=1700000100")
    with pytest.raises(BadSignature, match="no signature matches"):
        verify(SECRET, header, BODY, now=1700000100)


def test_payload_names_id_type_time_and_data():
    body = payload("evt_1", "customer.erased", 1700000000.25, {"customer_ids": ["a"]})
    assert body == (b'{"id":"evt_1","type":"customer.erased","created_at":1700000000.25,'
                    b'"time":"2023-11-14T22:13:20.250Z","data":{"customer_ids":["a"]}}')


def test_backoff_doubles_within_half_and_whole_of_it_and_is_capped():
    low = [delay(n, base=10, cap=3600, rand=lambda: 0.0) for n in range(1, 11)]
    high = [delay(n, base=10, cap=3600, rand=lambda: 0.999999) for n in range(1, 11)]
    assert low[:4] == [5, 10, 20, 40]
    assert [round(h) for h in high[:4]] == [10, 20, 40, 80]
    assert low[-1] == 1800 and round(high[-1]) == 3600  # 10 * 2**9 = 5120, capped
    assert delay(10_000, base=10, cap=3600, rand=lambda: 0.5) == 2700  # no overflow


def test_backoff_gives_up_after_max_attempts():
    assert next_attempt_at(1, 100.0, base=1, cap=10, max_attempts=3, rand=lambda: 0.0) == 100.5
    assert next_attempt_at(2, 100.0, base=1, cap=10, max_attempts=3, rand=lambda: 0.0) == 101.0
    assert next_attempt_at(3, 100.0, base=1, cap=10, max_attempts=3) is None
    with pytest.raises(ValueError):
        delay(0, base=1, cap=10)


@pytest.mark.parametrize("url", ["https://crm.example.com/hooks/otodesk", "http://93.184.215.14:8080/x"])
def test_public_http_urls_are_receivers(url):
    assert check_url(url, allow_private=False) == url


@pytest.mark.parametrize("url, why, reason", [
    ("ftp://crm.example.com/x", "only http and https", "scheme"),
    ("file:///etc/passwd", "only http and https", "scheme"),
    ("crm.example.com/x", "only http and https", "scheme"),
    ("https:///x", "no host", "no_host"),
    ("https://user:pw@crm.example.com/", "no credentials", "credentials"),
    ("http://127.0.0.1:9000/", "not a public address", "private"),
    ("http://10.1.2.3/", "not a public address", "private"),
    ("http://169.254.169.254/latest/meta-data", "not a public address", "private"),
    ("http://[::1]/", "not a public address", "private"),
    ("http://localhost:8000/", "localhost is private", "private"),
    ("http://example.com:99999/", "not a URL", "not_url"),
    ("https://crm.example.com/" + "x" * 2000, "over 2000", "too_long"),
])
def test_refused_receivers(url, why, reason):
    # The reason is what the admin console words in the reader's language (static/common/errors.js).
    with pytest.raises(TargetRefused, match=why) as refused:
        check_url(url, allow_private=False)
    assert refused.value.reason == reason


def test_private_receivers_when_allowed():
    assert check_url("http://127.0.0.1:9000/", allow_private=True)
    with pytest.raises(TargetRefused):
        check_url("gopher://127.0.0.1/", allow_private=True)


def test_the_verification_snippet_in_the_operations_guide_works():
    import re
    import time
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "operations.md").read_text()
    namespace: dict = {}
    exec(re.search(r"```python\n(import hashlib.*?)```", doc, re.S).group(1), namespace)
    now = int(time.time())
    namespace["verify"](SECRET, signature_header(SECRET, now, BODY), BODY)
    for header in (signature_header("whsec_other", now, BODY), signature_header(SECRET, now - 3600, BODY)):
        with pytest.raises(ValueError):
            namespace["verify"](SECRET, header, BODY)


def test_a_secret_being_rotated_signs_beside_the_new_one():
    body = b'{"id": "evt_1"}'
    header = signature_header("whsec_new", 1_800_000_000, body, previous="whsec_old")
    assert header.count("v1=") == 2
    # A receiver still on the old secret, and one already on the new, both accept it.
    for secret in ("whsec_old", "whsec_new"):
        assert verify(secret, header, body, now=1_800_000_000) == 1_800_000_000
    with pytest.raises(BadSignature):
        verify("whsec_other", header, body, now=1_800_000_000)
    assert signature_header("whsec_new", 1_800_000_000, body).count("v1=") == 1
