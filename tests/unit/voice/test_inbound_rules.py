"""Inbound calls' rules: the numbers we answer, callers' numbers, SIP user parts, what a waiting caller hears."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.customers.phones import caller_number
from desktop.settings import Settings
from desktop.voice.inbound import inbound_numbers
from desktop.voice.phone import should_retry, trunk_config
from signaling.media.sip import TrunkConfig
from signaling.media.sip.trunk import FRAME_BYTES, user_of
from signaling.media.waiting import GREETING_HZ, HOLD_MUSIC_HZ, greeting, hold_music, waiting_frames
from tests.helpers.sip_peer import dominant_hz


def test_the_numbers_we_answer_are_read_as_e164_and_a_bad_one_stops_the_start(monkeypatch, tmp_path):
    monkeypatch.setenv("OTODESK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("OTODESK_SIP_INBOUND", "+44 20 7946 0500=sales, 020 7946 0501=support")
    monkeypatch.setenv("OTODESK_DEFAULT_REGION", "GB")
    monkeypatch.setenv("OTODESK_SIP_MAX_CALLS", "7")
    settings = Settings.from_env()
    assert inbound_numbers(settings) == {"+442079460500": "sales", "+442079460501": "support"}
    assert settings.sip_max_calls == 7
    assert trunk_config(Settings(sip_uri="sip:pbx.example.com", sip_max_calls=7)).max_calls == 7
    with pytest.raises(ValueError, match="OTODESK_SIP_INBOUND: 'sales'"):
        inbound_numbers(Settings(sip_inbound=(("sales", "general"),)))
    monkeypatch.setenv("OTODESK_SIP_INBOUND", "+442079460500")
    with pytest.raises(ValueError, match="name=value"):
        Settings.from_env()
    with pytest.raises(ValueError, match="0 \\(no limit\\) or more"):
        TrunkConfig(uri="sip:pbx.example.com", max_calls=-1)


def test_callers_numbers_as_networks_send_them():
    assert caller_number("+447700900461", default_region="US") == "+447700900461"
    assert caller_number("07700900461", default_region="GB") == "+447700900461"
    assert caller_number("00447700900461", default_region="GB") == "+447700900461"
    for withheld in ("", "anonymous", "Anonymous", "unknown", "12"):
        assert caller_number(withheld, default_region="GB") is None


def test_the_user_part_of_what_sip_headers_carry():
    assert user_of('"Pat" <sip:+447700900461@trunk.example.com;user=phone>;tag=abc') == "+447700900461"
    assert user_of("sip:+442079460500@10.0.0.1:5060;transport=udp") == "+442079460500"
    assert user_of("<tel:+442079460500>") == "+442079460500"
    assert user_of("<sip:anonymous@anonymous.invalid>") == "anonymous"
    assert user_of("<sip:10.0.0.1>") == "" and user_of("junk") == ""


def test_a_dial_refused_at_the_limit_is_retried_like_a_busy_line():
    assert should_retry("refused", 1, 3) and not should_retry("refused", 3, 3)


def test_a_waiting_caller_hears_the_chime_then_hold_music_for_ever():
    assert all(len(frame) == FRAME_BYTES for frame in greeting() + hold_music())

    def heard(frames, start_s: float, seconds: float = 0.2) -> float:
        first = int(start_s / 0.02)
        return dominant_hz(b"".join(frames[first:first + int(seconds / 0.02)]))

    chime = greeting()
    for note, hz in enumerate(GREETING_HZ):
        assert abs(heard(chime, note * 0.4 + 0.08) - hz) < 15
    music = hold_music()
    for note, hz in enumerate(HOLD_MUSIC_HZ):
        assert abs(heard(music, note * 0.6 + 0.2) - hz) < 15
    frames = waiting_frames()
    played = [next(frames) for _ in range(len(chime) + 3 * len(music))]
    assert played[:len(chime)] == list(chime) and played[-len(music):] == list(music)
    # No click where the loop joins: the phrase starts and ends in silence.
    samples = np.frombuffer(b"".join(music), dtype=np.int16)
    assert abs(int(samples[0])) < 200 and abs(int(samples[-1])) < 200
