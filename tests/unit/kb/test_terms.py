"""Text to search terms (desktop/kb/terms.py): Chinese without spaces becomes bigrams, the
same for the index and the query; page patterns (desktop/kb/pages.py)."""

from __future__ import annotations

import pytest

from desktop.kb.pages import PatternError, check_pattern, matches
from desktop.kb.terms import MAX_QUERY_TERMS, index_terms, query_terms


def test_chinese_runs_become_bigrams_and_the_query_meets_the_index():
    assert index_terms("我需要退款", singles=False) == "我需 需要 要退 退款"
    assert index_terms("退款") == "退款 退 款"
    terms, prefix = query_terms("紧急退款!")
    assert terms == ["紧急", "急退", "退款"] and prefix is None
    assert set(query_terms("我需要退款")[0]) & set(index_terms("如何申请退款").split()) == {"退款"}


def test_words_digits_width_and_case():
    assert index_terms("Payment-FAILED ＡＢＣ１２３ café_latte") == "payment failed abc123 café latte"
    assert query_terms("Order 42 pay") == (["order", "42", "pay"], "pay")
    assert query_terms("order pay ") == (["order", "pay"], None)  # the last word is finished
    assert query_terms("退款") == (["退款"], None)  # CJK is never a prefix


def test_mixed_scripts_and_kana_hangul():
    assert index_terms("iPhone充电慢", singles=False) == "iphone 充电 电慢"
    assert index_terms("パスワード", singles=False).split()[0] == "パス"
    assert index_terms("비밀번호", singles=False) == "비밀 밀번 번호"


def test_queries_are_bounded_and_operators_are_text():
    assert len(query_terms("字" * 500)[0]) == 1  # one distinct bigram
    assert len(query_terms(" ".join(f"w{i}" for i in range(100)))[0]) == MAX_QUERY_TERMS
    assert query_terms('" OR * NEAR( -- ;') == (["or", "near"], None)  # words (quoted in the query), not operators
    assert query_terms("") == ([], None)


@pytest.mark.parametrize("pattern, url, expected", [
    ("/checkout", "https://shop.example/checkout", True),
    ("/checkout", "https://shop.example/checkout/pay", False),
    ("/checkout*", "https://shop.example/checkout/pay?x=1#y", True),
    ("/help/?", "https://shop.example/help/a", True),
    ("/a[b]", "https://shop.example/a[b]", True),
    ("/a.c", "https://shop.example/abc", False),  # not a regular expression
    ("https://shop.example/*", "https://SHOP.example/x", True),
    ("https://shop.example/*", "https://other.example/x", False),
])
def test_page_patterns(pattern, url, expected):
    assert matches([check_pattern(pattern)], url) is expected


@pytest.mark.parametrize("pattern", ["", "checkout", "javascript:alert(1)", "ftp://x/y", "/" + "a" * 300])
def test_bad_page_patterns_say_why(pattern):
    with pytest.raises(PatternError):
        check_pattern(pattern)
