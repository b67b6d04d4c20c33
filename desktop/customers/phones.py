"""Customer phone numbers: parsed to E.164 with ``phonenumbers``, risky kinds refused."""

from __future__ import annotations

from collections.abc import Collection

import phonenumbers
from phonenumbers import PhoneNumberType

__all__ = ["PhoneRejected", "caller_number", "country_of", "normalize_phone"]

# Calling these costs the company money per minute or routes to a third party.
#: The kinds of number never called back: (the kind, for a page to word it; why, in English).
_REFUSED_TYPES = {
    PhoneNumberType.PREMIUM_RATE: ("premium_rate", "premium-rate numbers can't be called back"),
    PhoneNumberType.SHARED_COST: ("shared_cost", "shared-cost numbers can't be called back"),
    PhoneNumberType.UAN: ("uan", "universal access numbers can't be called back"),
    PhoneNumberType.PAGER: ("pager", "pagers can't take a call"),
}


class PhoneRejected(ValueError):
    """``code`` is ``invalid_phone``, ``phone_refused`` or ``phone_country`` (a country the
    contact centre doesn't call); the message says why."""

    def __init__(self, code: str, message: str, *, detail: dict | None = None):
        super().__init__(message)
        self.code = code
        #: For ``phone_country``: ``{country, allowed}`` (ISO codes), for a client to word it.
        self.detail = detail


def normalize_phone(text: str, *, default_region: str, countries: Collection[str] | None = None) -> str:
    """The number in E.164 (``+14155552671``), or raise PhoneRejected.

    ``countries``: the regions (ISO 3166 codes, ``GB``) whose numbers may be called back;
    None or containing ``*``: any. A number of a shared country code (``+1``) counts as
    the region it belongs to (``CA`` is not ``US``)."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise PhoneRejected("invalid_phone", "a phone number is needed for a phone callback")
    try:
        number = phonenumbers.parse(cleaned, default_region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneRejected("invalid_phone", f"not a phone number: {exc._msg}") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneRejected("invalid_phone", "this phone number does not exist; check the digits and country code")
    refused = _REFUSED_TYPES.get(phonenumbers.number_type(number))
    if refused:
        raise PhoneRejected("phone_refused", refused[1], detail={"kind": refused[0]})
    if countries is not None and "*" not in countries:
        region = country_of(number)
        if region not in {c.upper() for c in countries}:
            listed = ", ".join(sorted(_names(countries)))
            raise PhoneRejected("phone_country", f"we can only call numbers in {listed}; "
                                f"this one is in {_name(region)}",
                                detail={"country": region, "allowed": sorted(c.upper() for c in countries)})
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


def country_of(number: phonenumbers.PhoneNumber) -> str:
    """The number's region (``GB``), ``001`` for a non-geographic entity, ``ZZ`` if unknown."""
    return phonenumbers.region_code_for_number(number) or "ZZ"


def _names(regions: Collection[str]) -> list[str]:
    return [_name(region.upper()) for region in regions]


def _name(region: str) -> str:
    """``United Kingdom (GB)`` for the message (the widget words its own from the code)."""
    # Imported here: the geocoder's tables take half a second to load, and only a refusal's
    # message needs a country's name (every process start paid it).
    from phonenumbers import geocoder

    example = phonenumbers.example_number(region)
    name = geocoder.country_name_for_number(example, "en") if example is not None else ""
    return f"{name} ({region})" if name else region
