"""The country allowlist for phone callbacks (desktop/customers/phones.py), on top of the
premium-rate and shared-cost refusals, and its setting (default: the centre's own country)."""

from __future__ import annotations

import pytest

from desktop.customers.phones import PhoneRejected, normalize_phone
from desktop.settings import Settings


def test_a_number_in_an_allowed_country_passes():
    assert normalize_phone("020 7946 0123", default_region="GB", countries=("GB",)) == "+442079460123"
    assert normalize_phone("+86 138 0013 8000", default_region="GB", countries=("GB", "CN")) == "+8613800138000"
    assert normalize_phone("+86 138 0013 8000", default_region="GB", countries=("*",)) == "+8613800138000"
    assert normalize_phone("+86 138 0013 8000", default_region="GB") == "+8613800138000"  # None: any


def test_another_country_is_refused_with_what_is_allowed():
    with pytest.raises(PhoneRejected) as refused:
        normalize_phone("+44 20 7946 0123", default_region="US", countries=("US",))
    assert refused.value.code == "phone_country"
    assert str(refused.value) == "we can only call numbers in United States (US); this one is in United Kingdom (GB)"
    assert refused.value.detail == {"country": "GB", "allowed": ["US"]}


def test_a_shared_country_code_counts_as_its_own_region():
    # +1 416 is Toronto: Canada, not the United States, though both dial +1.
    with pytest.raises(PhoneRejected) as refused:
        normalize_phone("+1 416 555 0123", default_region="US", countries=("US",))
    assert refused.value.detail["country"] == "CA"
    assert normalize_phone("+1 416 555 0123", default_region="US", countries=("us", "ca")) == "+14165550123"


def test_premium_rate_is_refused_whatever_the_allowlist():
    with pytest.raises(PhoneRejected) as refused:
        normalize_phone("+1 900 555 0123", default_region="US", countries=("*",))
    assert refused.value.code == "phone_refused"


def test_the_setting_defaults_to_the_centres_country(monkeypatch):
    assert Settings().callable_countries == ("US",)
    assert Settings(default_region="gb").callable_countries == ("GB",)
    monkeypatch.setenv("OTODESK_DEFAULT_REGION", "tw")
    assert Settings.from_env(secret_key="x").callable_countries == ("TW",)
    monkeypatch.setenv("OTODESK_PHONE_COUNTRIES", "tw, hk,mo")
    assert Settings.from_env(secret_key="x").callable_countries == ("TW", "HK", "MO")


def test_calling_hours_setting_is_checked_at_start(monkeypatch):
    assert Settings.from_env(secret_key="x").calling_hours == "08:00-21:00"
    monkeypatch.setenv("OTODESK_CALLING_HOURS", "9-5")
    with pytest.raises(ValueError, match="OTODESK_CALLING_HOURS"):
        Settings.from_env(secret_key="x")
