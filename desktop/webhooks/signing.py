"""The signature of a webhook: HMAC-SHA256 over ``"<timestamp>.<body>"``, as Stripe does.

The header is ``Otodesk-Signature: t=<unix seconds>,v1=<hex digest>``. Signing the
timestamp with the body lets a receiver refuse an old delivery replayed by someone who
captured it (:data:`DEFAULT_TOLERANCE`); ``v1`` names the scheme so another can be added
beside it. Pure: the caller passes the time.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["DEFAULT_TOLERANCE", "HEADER", "BadSignature", "sign", "signature_header", "verify"]

HEADER = "Otodesk-Signature"
#: Seconds a receiver should accept between the signed time and its own clock.
DEFAULT_TOLERANCE = 300


class BadSignature(ValueError):
    """The header is malformed, too old, or matches no signature of the body."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``b"<timestamp>." + body`` under ``secret``."""
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes, *, previous: str | None = None) -> str:
    """The value of :data:`HEADER` for this body sent at ``timestamp`` (unix seconds); with
    ``previous`` (a secret being rotated out), a second ``v1`` under it."""
    header = f"t={int(timestamp)},v1={sign(secret, timestamp, body)}"
    return f"{header},v1={sign(previous, timestamp, body)}" if previous else header


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance: float = DEFAULT_TOLERANCE) -> int:
    """Check a received header; return its timestamp. Raises :class:`BadSignature`.

    Several ``v1`` values may be present (a secret being rotated): one matching is enough.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise BadSignature(f"{HEADER} must be 't=<unix seconds>,v1=<hex>', not {header[:100]!r}")
    if abs(now - timestamp) > tolerance:
        raise BadSignature(f"signed {now - timestamp:.0f} s from now, beyond the {tolerance:.0f} s tolerance")
    expected = sign(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise BadSignature("no signature matches the body")
    return timestamp
