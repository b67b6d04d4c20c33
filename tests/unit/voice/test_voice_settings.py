"""OTODESK_ICE_SERVERS and OTODESK_VOICE_RECORDING, as read from the environment."""

import pytest

from desktop.settings import Settings
from signaling.media.anchor import ice_servers_from_config


def test_ice_servers_from_json(monkeypatch, tmp_path):
    monkeypatch.setenv("OTODESK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("OTODESK_ICE_SERVERS", '[{"urls": "stun:stun.example.com:3478"}, '
                       '{"urls": ["turn:turn.example.com:3478"], "username": "u", "credential": "p", "x": 1}]')
    settings = Settings.from_env()
    assert settings.ice_servers == ({"urls": "stun:stun.example.com:3478"},
                                    {"urls": ["turn:turn.example.com:3478"], "username": "u", "credential": "p"})
    servers = ice_servers_from_config(list(settings.ice_servers))
    assert servers[1].username == "u" and servers[1].credential == "p"


def test_no_ice_servers_means_none_at_all_never_a_public_stun(monkeypatch, tmp_path):
    monkeypatch.setenv("OTODESK_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("OTODESK_ICE_SERVERS", raising=False)
    assert Settings.from_env().ice_servers == ()
    assert ice_servers_from_config([]) == []


def test_bad_ice_servers_are_refused_at_start(monkeypatch, tmp_path):
    monkeypatch.setenv("OTODESK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("OTODESK_ICE_SERVERS", '{"urls": "stun:x"}')
    with pytest.raises(ValueError, match="JSON list"):
        Settings.from_env()


def test_recording_per_queue(monkeypatch, tmp_path):
    monkeypatch.setenv("OTODESK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("OTODESK_VOICE_RECORDING", "sales, support:consent")
    assert Settings.from_env().voice_recording == ("sales", "support:consent")
