"""The console's centre settings as values (desktop/centre/config.py): what an admin may store,
the environment's values until then, and urgent words matched per language."""

from __future__ import annotations

import pytest

from desktop.centre.config import (
    CHINESE_URGENT_WORDS, DEFAULT_ACCENT, CentreConfig, CentreSettingError, check_origins, check_urgent_words,
    check_widget,
)
from desktop.routing.router import Router
from desktop.routing.models import CallbackRequest, QueueConfig
from desktop.settings import DEFAULT_URGENT_WORDS

ENV = dict(env_urgent_words=DEFAULT_URGENT_WORDS, env_origins=("https://env.example",))


def test_nothing_stored_keeps_the_environment_and_knows_chinese():
    config = CentreConfig.build({}, **ENV)
    assert config.origins == ("https://env.example",)
    assert config.urgent_words["en"] == DEFAULT_URGENT_WORDS
    assert config.urgent_words["zh-CN"] == CHINESE_URGENT_WORDS["zh-CN"]
    assert config.widget_json() == {"accent": DEFAULT_ACCENT, "position": "bottom-right",
                                    "greeting": {"en": "", "zh-CN": "", "zh-TW": ""}}
    # OTODESK_URGENT_WORDS alone (English) never matched Chinese: the defaults per language do,
    # inside a run of text, simplified and traditional.
    assert config.is_urgent("我需要紧急退款") and config.is_urgent("我需要緊急處理")
    assert not config.is_urgent("我想了解一下退款政策")  # "the refund policy": a question, not urgent
    assert config.is_urgent("this is URGENT please") and not config.is_urgent("the insurgents")


def test_stored_values_replace_the_environment_even_when_empty():
    config = CentreConfig.build({"origins": [], "urgent_words": {"en": ["kaboom"], "zh-CN": ["火急"]},
                                 "widget": {"accent": "#0f766e", "position": "bottom-left",
                                            "greeting": {"zh-TW": "您好"}}}, **ENV)
    assert config.origins == ()
    assert config.urgent_words == {"en": ("kaboom",), "zh-CN": ("火急",), "zh-TW": ()}
    assert config.is_urgent("订单火急") and config.is_urgent("Kaboom!") and not config.is_urgent("urgent")
    assert config.widget_json()["greeting"] == {"en": "", "zh-CN": "", "zh-TW": "您好"}


def test_urgent_words_are_trimmed_deduplicated_and_bounded():
    assert check_urgent_words({"en": ["  right   away ", "ASAP", "asap", ""], "zh-CN": ["紧急"]}) == {
        "en": ["right away", "ASAP"], "zh-CN": ["紧急"], "zh-TW": []}
    with pytest.raises(CentreSettingError, match="fr"):
        check_urgent_words({"fr": ["urgence"]})
    with pytest.raises(CentreSettingError, match="longer than 60"):
        check_urgent_words({"en": ["x" * 61]})


@pytest.mark.parametrize("accent", ["red", "#fff", "#12345g", "#1234567", "", "#0f766e;}"])
def test_a_colour_is_six_hex_digits(accent):
    with pytest.raises(CentreSettingError, match="#rrggbb"):
        check_widget(accent=accent, position="bottom-right", greeting={})


def test_the_widget_look_is_checked_and_stored_in_one_form():
    assert check_widget(accent="#0F766E", position="bottom-left", greeting={"en": " Hi  there "}) == {
        "accent": "#0f766e", "position": "bottom-left", "greeting": {"en": "Hi there", "zh-CN": "", "zh-TW": ""}}
    with pytest.raises(CentreSettingError, match="position"):
        check_widget(accent="#000000", position="top-left", greeting={})
    with pytest.raises(CentreSettingError, match="longer than 200"):
        check_widget(accent="#000000", position="bottom-left", greeting={"en": "x" * 201})


def test_sites_are_written_as_browsers_send_origin():
    assert check_origins(["https://Shop.Example.com/", "http://127.0.0.1:8001", "https://shop.example.com:443",
                          "", "http://[::1]:3000"]) == [
        "https://shop.example.com", "http://127.0.0.1:8001", "http://[::1]:3000"]


@pytest.mark.parametrize(("site", "why"), [
    ("shop.example.com", "http:// or https://"),
    ("ftp://shop.example.com", "http:// or https://"),
    ("https://shop.example.com/path", "no path"),
    ("https://shop.example.com?x=1", "no path"),
    ("https://user:pw@shop.example.com", "user name"),
    ("https://shop.example.com:99999", "port"),
    ("https://*.example.com", "host name"),
    ("https://", "host name"),
    ("https://exa mple.com", "host name"),
])
def test_a_bad_site_is_named_in_the_error(site, why):
    with pytest.raises(CentreSettingError, match=why) as raised:
        check_origins(["https://good.example", site])
    assert repr(site) in str(raised.value) and "scheme://host[:port]" in str(raised.value)


def test_the_router_asks_the_live_test_at_each_request():
    # The console changes the words while the router runs: the router keeps the function, not the words.
    words = {"current": CentreConfig.build({"urgent_words": {"en": ["kaboom"]}}, **ENV)}
    router = Router([QueueConfig(name="q")], is_urgent=lambda text: words["current"].is_urgent(text))
    router.add_callback(CallbackRequest(id="plain", queue="q", text="hello"), now=0.0)
    router.add_callback(CallbackRequest(id="first", queue="q", text="kaboom"), now=1.0)
    words["current"] = CentreConfig.build({"urgent_words": {"zh-CN": ["火急"]}}, **ENV)
    router.add_callback(CallbackRequest(id="later", queue="q", text="kaboom"), now=2.0)
    router.add_callback(CallbackRequest(id="second", queue="q", text="真的火急"), now=3.0)
    assert router.waiting("q") == ["first", "second", "plain", "later"]
