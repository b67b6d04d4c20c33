"""A second factor for local-password staff accounts: time-based one-time codes (RFC 6238).

pyotp makes and checks the codes; this module adds what a sign-in needs around them, pure
(``now`` is passed in, nothing here touches the database):

- :func:`matching_step` names the 30-second step a code belongs to, so the repository can
  refuse a code of a step already used (``agents_totp.last_step``): a code accepted once can't
  be replayed, in this process or another;
- recovery codes (:func:`new_recovery_codes`), each good once, kept only as an HMAC digest
  (:meth:`SecretBox.recovery_digest`): the table alone signs nobody in;
- :class:`SecretBox` seals the shared secret at rest (Fernet: AES-CBC and an HMAC), keyed by
  ``OTODESK_TOTP_KEY`` (else derived from ``OTODESK_SECRET_KEY``);
- :func:`provisioning_uri`, the ``otpauth://`` URI an authenticator app scans.

SSO accounts have no second factor here: their identity provider asks for its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

import pyotp
from cryptography.fernet import Fernet, InvalidToken

__all__ = ["STEP", "DIGITS", "DRIFT_STEPS", "RECOVERY_CODES", "SecretBox", "new_secret", "code_at",
           "matching_step", "provisioning_uri", "new_recovery_codes", "normalise_recovery_code",
           "looks_like_totp", "looks_like_recovery_code"]

#: Seconds a code lasts, and its digits: what every authenticator app assumes.
STEP = 30
DIGITS = 6
#: A code of the step before or after the current one is accepted too (a phone's clock a
#: little off, the seconds it takes to type); so a code lives at most 90 s.
DRIFT_STEPS = 1
#: Recovery codes given at enrolment, each good once.
RECOVERY_CODES = 10
#: Their letters: digits and lowercase without i, l, o, u (Crockford's base 32), 10 of them
#: (50 bits) shown as "xxxxx-xxxxx"; typed with or without the dash, in any case.
_RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_RECOVERY_LENGTH = 10
_CONFUSABLE = str.maketrans({"o": "0", "i": "1", "l": "1"})
_SIX_DIGITS = re.compile(r"[0-9]{6}")


def new_secret() -> str:
    """A new shared secret: 32 base32 letters (160 bits, RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def code_at(secret: str, now: float) -> str:
    """The code an authenticator app shows at ``now`` (epoch seconds)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP).generate_otp(int(now // STEP))


def looks_like_totp(text: str) -> bool:
    """Six digits (spaces ignored): a code from the app, not a recovery code."""
    return bool(_SIX_DIGITS.fullmatch(text.replace(" ", "")))


def matching_step(secret: str, code: str, *, now: float) -> int | None:
    """The time step (``now // STEP``, give or take :data:`DRIFT_STEPS`) whose code is ``code``,
    or None. Every candidate is compared in constant time. The caller must still refuse a
    step at or before the last one accepted (replay)."""
    code = code.replace(" ", "")
    if not _SIX_DIGITS.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP)
    current = int(now // STEP)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """``otpauth://totp/<issuer>:<account>?secret=...&issuer=...``: what the QR code carries."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP).provisioning_uri(name=account, issuer_name=issuer)


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """``count`` fresh codes, "xxxxx-xxxxx" each."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalise_recovery_code(text: str) -> str | None:
    """A typed recovery code as stored before hashing (no dash or space, lowercase, o→0, i/l→1),
    or None when it can't be one."""
    raw = re.sub(r"[\s-]", "", text).lower().translate(_CONFUSABLE)
    if len(raw) != _RECOVERY_LENGTH or any(c not in _RECOVERY_ALPHABET for c in raw):
        return None
    return raw


def looks_like_recovery_code(text: str) -> bool:
    return normalise_recovery_code(text) is not None


class SecretBox:
    """Seals TOTP secrets for the database and digests recovery codes, under one key.

    The key is an operator's secret (``OTODESK_TOTP_KEY``); both uses derive their own key from
    it, so a sealed secret and a digest never share one. Losing or changing the key makes every
    enrolment unreadable: people then need an admin's reset (docs/operations.md)."""

    def __init__(self, key: str):
        if not key:
            raise ValueError("the TOTP key must not be empty")
        seal_key = hashlib.sha256(b"otodesk.totp.seal\0" + key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(seal_key))
        self._digest_key = hashlib.sha256(b"otodesk.totp.recovery\0" + key.encode()).digest()

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str | None) -> str | None:
        """The secret, or None when missing or sealed under another key (or tampered with)."""
        if not sealed:
            return None
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            return None

    def recovery_digest(self, agent_id: str, code: str) -> str:
        """What is stored of a (normalised) recovery code: an HMAC bound to the account."""
        return hmac.new(self._digest_key, f"{agent_id}:{code}".encode(), hashlib.sha256).hexdigest()
