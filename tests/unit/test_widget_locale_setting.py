"""OTODESK_WIDGET_LOCALE, as read from the environment: one of the widget's languages, spelt as
its catalogue is (static/widget/messages-<locale>.js), or refused at start."""

from pathlib import Path

import pytest

from desktop.settings import WIDGET_LOCALES, Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("value", "expected"), [("", ""), ("zh-TW", "zh-TW"), ("zh_tw", "zh-TW"), (" ZH-cn ", "zh-CN"), ("en", "en")])
def test_a_widget_language(monkeypatch, tmp_path, value, expected):
    monkeypatch.setenv("OTODESK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("OTODESK_WIDGET_LOCALE", value)
    assert Settings.from_env().widget_locale == expected


def test_a_language_the_widget_does_not_speak_is_refused_at_start(monkeypatch, tmp_path):
    monkeypatch.setenv("OTODESK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("OTODESK_WIDGET_LOCALE", "fr")
    with pytest.raises(ValueError, match="OTODESK_WIDGET_LOCALE must be one of en, zh-CN, zh-TW"):
        Settings.from_env()


def test_every_setting_has_its_catalogue():
    for locale in WIDGET_LOCALES:
        assert (ROOT / "static" / "widget" / f"messages-{locale}.js").is_file(), locale
