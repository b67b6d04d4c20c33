"""Urgent words in the customer's own language: Chinese is written without spaces."""

from __future__ import annotations

from desktop.routing.priority import DEFAULT_URGENT_WORDS, UrgencyMatcher


def test_a_chinese_urgent_word_is_found_inside_a_sentence():
    urgent = UrgencyMatcher(DEFAULT_URGENT_WORDS)
    assert urgent("我需要紧急退款")            # "I need an urgent refund"
    assert urgent("請盡快回電")                # traditional: "please call back as soon as possible"
    assert urgent("我的卡被盗刷了")            # "my card was used fraudulently"
    assert not urgent("我想了解一下退款政策")  # "I'd like to know the refund policy"


def test_latin_words_still_need_their_boundaries_next_to_chinese_text():
    urgent = UrgencyMatcher(["urgent", "紧急"])
    assert urgent("urgent退款") and urgent("退款urgent")  # a Chinese character is no letter of the word
    assert not urgent("insurgent") and not urgent("urgentes")
    assert urgent("URGENT please") and urgent("紧急!")


def test_a_phrase_mixing_scripts_matches_across_spaces():
    urgent = UrgencyMatcher(["vip 紧急"])
    assert urgent("客户是 VIP  紧急处理")
    assert not urgent("vip紧急")  # the planner wrote a space: the phrase has two words
