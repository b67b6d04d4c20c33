"""Phone callbacks' rules: which results are retried, and the trunk's settings read with clear errors."""

from __future__ import annotations

import pytest

from desktop.settings import Settings
from desktop.voice.phone import retry_policy, rtp_ports, should_retry, trunk_config


def test_busy_no_answer_and_failed_are_retried_up_to_the_maximum():
    for result in ("busy", "no_answer", "failed"):
        assert should_retry(result, 1, 3) and should_retry(result, 2, 3)
        assert not should_retry(result, 3, 3)
    for result in ("completed", "rejected", "cancelled", None):
        assert not should_retry(result, 1, 3)


def test_retry_rules_per_queue_else_the_defaults():
    settings = Settings(phone_retry_delay=300, phone_max_attempts=3, phone_retry_queues=("sales:120:5", "vip:0:1"))
    assert retry_policy(settings, "sales") == (120.0, 5)
    assert retry_policy(settings, "vip") == (0.0, 1)
    assert retry_policy(settings, "support") == (300, 3)
    for bad in ("sales:soon:5", "sales:120", "sales:-1:2", "sales:60:0"):
        with pytest.raises(ValueError, match="OTODESK_PHONE_RETRY_QUEUES"):
            retry_policy(Settings(phone_retry_queues=(bad,)), "sales")


def test_no_sip_uri_no_trunk_and_bad_settings_say_what_is_wrong():
    assert trunk_config(Settings()) is None
    config = trunk_config(Settings(sip_uri="sip:pbx.example.com", sip_username="u", sip_caller_id="+441632960000"))
    assert config.proxy == ("pbx.example.com", 5060) and config.codecs == ("PCMU", "PCMA")
    with pytest.raises(ValueError, match="codecs"):
        trunk_config(Settings(sip_uri="sip:pbx.example.com", sip_codecs=("OPUS",)))
    assert rtp_ports("20000-30000") == (20000, 30000)
    for bad in ("20000", "30000-20000", "80-90", "a-b"):
        with pytest.raises(ValueError, match="OTODESK_SIP_RTP_PORTS"):
            rtp_ports(bad)


def test_settings_read_the_sip_variables(monkeypatch):
    monkeypatch.setenv("OTODESK_SIP_URI", "sip:trunk.example.com:5080")
    monkeypatch.setenv("OTODESK_SIP_CODECS", "pcma")
    monkeypatch.setenv("OTODESK_SIP_RING_TIMEOUT", "20")
    monkeypatch.setenv("OTODESK_PHONE_MAX_ATTEMPTS", "5")
    settings = Settings.from_env()
    assert settings.sip_uri == "sip:trunk.example.com:5080" and settings.sip_codecs == ("PCMA",)
    assert settings.sip_ring_timeout == 20.0 and settings.phone_max_attempts == 5
    monkeypatch.setenv("OTODESK_SIP_TRANSPORT", "sctp")
    with pytest.raises(ValueError, match="OTODESK_SIP_TRANSPORT"):
        Settings.from_env()
    monkeypatch.setenv("OTODESK_SIP_TRANSPORT", "tls")
    monkeypatch.setenv("OTODESK_SIP_SRTP", "always")
    with pytest.raises(ValueError, match="OTODESK_SIP_SRTP"):
        Settings.from_env()
    monkeypatch.setenv("OTODESK_SIP_SRTP", "required")
    monkeypatch.setenv("OTODESK_SIP_TLS_CA_FILE", "/etc/hosts")
    settings = Settings.from_env()
    config = trunk_config(settings)
    assert (config.transport, config.srtp, config.tls_ca_file) == ("tls", "required", "/etc/hosts")
