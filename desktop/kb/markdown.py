"""An article's Markdown to HTML that is safe to draw in the customer's widget.

Two locks, so that one mistake is not enough:

1. markdown-it-py (CommonMark) with raw HTML off: ``<script>`` typed in an article is text,
   not a tag; images off (an image would load from anywhere, and track the reader); a link
   whose address is not ``http:``, ``https:`` or ``mailto:`` stays text (``javascript:``,
   ``data:``, ``vbscript:``, relative addresses);
2. nh3 (ammonia) over the result: only the tags and attributes below survive, link schemes
   are checked again, and every link opens apart (``target=_blank``, ``rel=noopener
   noreferrer nofollow``).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

__all__ = ["SCHEMES", "plain_text", "render"]

SCHEMES = frozenset({"http", "https", "mailto"})
TAGS = frozenset({"p", "br", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol", "li",
                  "h1", "h2", "h3", "h4", "hr", "a", "table", "thead", "tbody", "tr", "th", "td"})
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


def _link_ok(url: str) -> bool:
    # Browsers ignore tabs and newlines inside a scheme ("java\tscript:"): judge without them.
    scheme = urlsplit(_CONTROL.sub("", url)).scheme.lower()
    return scheme in SCHEMES


@functools.cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"]).disable(["image", "html_block", "html_inline"])
    md.validateLink = _link_ok  # type: ignore[method-assign]
    return md


def render(body: str) -> str:
    """Sanitised HTML for ``body`` (Markdown)."""
    html = _parser().render(body)
    return nh3.clean(html, tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
                     url_schemes=set(SCHEMES), link_rel="noopener noreferrer nofollow",
                     set_tag_attribute_values={"a": {"target": "_blank"}},
                     filter_style_properties={"text-align"}, strip_comments=True).strip()


def plain_text(body: str, *, limit: int | None = None) -> str:
    """The words of ``body`` without markup (for the index and the suggestions' snippets)."""
    text = nh3.clean(_parser().render(body), tags=set(), strip_comments=True)
    text = re.sub(r"\s+", " ", _unescape(text)).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    return text


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)
