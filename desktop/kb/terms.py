"""Text to search terms, one transformation for the index and for the query.

The databases' own full-text search splits on spaces and punctuation, so Chinese, which has
neither between words, would be one "word" a sentence. Before text reaches FTS5 or a
``tsvector`` it is rewritten here as terms separated by spaces:

- NFKC (full-width letters and digits become ASCII), lower case;
- a run of letters or digits in a spaced script is one term (``refund``, ``404``);
- a run of CJK characters (Han, kana, Hangul) becomes its overlapping character bigrams, and
  in the index of titles and tags its single characters too: ``退款失败`` → ``退款 款失 失败``
  (+ ``退 款 失 败``).
  A query's run of two or more characters asks for its bigrams, a lone character for itself,
  so ``退款`` finds ``我需要退款`` without a segmenter's dictionary and without a scan.

The engines then see only space-separated lower-case terms of letters and digits, which
FTS5's ``unicode61`` and PostgreSQL's ``simple`` configuration keep as they are.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_QUERY_TERMS", "index_terms", "query_terms"]

#: Han (with extensions A and compatibility), kana, Hangul syllables.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_RUN = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+)")
MAX_TERM = 40  # characters: longer "words" are noise (hashes, base64), cut to this
MAX_QUERY_TERMS = 24  # a pasted paragraph asks for its first terms only


def _runs(text: str):
    for match in _RUN.finditer(unicodedata.normalize("NFKC", text).lower()):
        if match.group("cjk"):
            yield True, match.group("cjk")
        else:
            yield False, match.group("word")[:MAX_TERM]


def _bigrams(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(len(run) - 1)]


def index_terms(text: str, *, singles: bool = True) -> str:
    """What is stored for ``text`` in the full-text index: terms separated by spaces.

    ``singles``: CJK characters alone too, so a one-character query finds it (titles and
    tags; a body without them is half the size, which is what the search's time is made of).
    """
    out: list[str] = []
    for cjk, run in _runs(text):
        if not cjk:
            out.append(run)
            continue
        out.extend(_bigrams(run) if len(run) > 1 else [run])
        if singles and len(run) > 1:
            out.extend(run)
    return " ".join(out)


def query_terms(text: str) -> tuple[list[str], str | None]:
    """The terms to look for, distinct, in order, at most :data:`MAX_QUERY_TERMS`; and the last
    word when the customer may still be typing it (it ends the text and is not CJK), to be
    matched as a prefix (``pay`` → ``payment``)."""
    terms: list[str] = []
    last_word = None
    for cjk, run in _runs(text):
        last_word = None
        if cjk:
            terms.extend(_bigrams(run) if len(run) > 1 else [run])
        else:
            terms.append(run)
            last_word = run
    if last_word is not None and not re.search(r"[\w]\Z", unicodedata.normalize("NFKC", text).lower()):
        last_word = None  # the text ends with a space or punctuation: the word is finished
    distinct = list(dict.fromkeys(terms))[:MAX_QUERY_TERMS]
    if last_word is not None and last_word not in distinct:
        last_word = None
    return distinct, last_word
