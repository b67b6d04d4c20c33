"""Customer phone numbers: parsed to E.164 with ``phonenumbers``, risky kinds refused."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

__all__ = ["PhoneRejected", "normalize_phone", "caller_number"]

# Calling these costs the company money per minute or routes to a third party.
_REFUSED_TYPES = {
    PhoneNumberType.PREMIUM_RATE: "premium-rate numbers can't be called back",
    PhoneNumberType.SHARED_COST: "shared-cost numbers can't be called back",
    PhoneNumberType.UAN: "universal access numbers can't be called back",
    PhoneNumberType.PAGER: "pagers can't take a call",
}


class PhoneRejected(ValueError):
    """``code`` is ``invalid_phone`` or ``phone_refused``; the message says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def normalize_phone(text: str, *, default_region: str) -> str:
    """The number in E.164 (``+14155552671``), or raise PhoneRejected."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise PhoneRejected("invalid_phone", "a phone number is needed for a phone callback")
    try:
        number = phonenumbers.parse(cleaned, default_region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneRejected("invalid_phone", f"not a phone number: {exc._msg}") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneRejected("invalid_phone", "this phone number does not exist; check the digits and country code")
    reason = _REFUSED_TYPES.get(phonenumbers.number_type(number))
    if reason:
        raise PhoneRejected("phone_refused", reason)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def caller_number(text: str, *, default_region: str) -> str | None:
    """A caller's number as the network sent it (``+44…``, ``0044…``, ``020…``) in E.164, or None
    when it is withheld or not a possible number (``anonymous``). Nothing is refused: we don't call it."""
    cleaned = (text or "").strip()
    if not any(ch.isdigit() for ch in cleaned):
        return None
    try:
        number = phonenumbers.parse(cleaned, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
