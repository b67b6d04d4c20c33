"""An article's Markdown becomes HTML the widget may draw: no script, no handlers, links only
http, https and mailto (desktop/kb/markdown.py)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from desktop.kb.markdown import plain_text, render


def _parts(html: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The tags, and every (tag, attribute, value)."""
    tags, attributes = [], []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)
            attributes.extend((tag, name, value or "") for name, value in attrs)

    Parser().feed(html)
    return tags, attributes


def test_markdown_makes_the_usual_structure():
    html = render("## Steps\n\n1. **Check** the *card*\n2. `retry`\n\n> note\n\n| a | b |\n|---|--:|\n| 1 | 2 |")
    tags, _ = _parts(html)
    assert {"h2", "ol", "li", "strong", "em", "code", "blockquote", "table", "th", "td"} <= set(tags)


@pytest.mark.parametrize("body", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "<iframe src='https://evil.example'></iframe>",
    "<svg onload=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](https://tracker.example/pixel.png)",
    "[x](/relative/path)",
    "<style>*{display:none}</style>",
    "[x](https://ok.example \"t\" onmouseover=alert(1))",
])
def test_script_handlers_and_other_schemes_never_survive(body):
    tags, attributes = _parts(render(body))
    assert set(tags) <= {"p", "a"}
    for tag, name, value in attributes:
        assert not name.startswith("on") and name in ("href", "title", "target", "rel"), (tag, name)
        if name == "href":
            assert value.split(":")[0].lower() in ("http", "https", "mailto"), value


def test_allowed_links_open_apart():
    tags, attributes = _parts(render("[a](https://x.example/a) [b](mailto:help@x.example) [c](http://x.example)"))
    assert tags.count("a") == 3
    assert ("a", "rel", "noopener noreferrer nofollow") in attributes and ("a", "target", "_blank") in attributes
    assert [v for _, n, v in attributes if n == "href"] == ["https://x.example/a", "mailto:help@x.example",
                                                           "http://x.example"]


def test_typed_html_is_shown_as_text():
    assert render("a <b>bold</b> &amp; <script>x</script>") == \
        "<p>a &lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;</p>"


def test_plain_text_for_snippets():
    assert plain_text("# 退款\n\n**三天**内到账。[详情](https://x.example)", limit=200) == "退款 三天内到账。详情"
    assert plain_text("word " * 100, limit=20) == "word word word word…"
