"""The after-call e-mail in the widget's three languages (static/widget/messages-*.js has the
widget's own words). Whole sentences with named placeholders, as the widget's catalogues."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from zoneinfo import ZoneInfo

__all__ = ["MAIL", "summary_mail"]

MAIL = {
    "en": {
        "subject": "What we did about your request",
        "greeting": "Hello {name},",
        "greeting_anonymous": "Hello,",
        "intro": "{agent} wrote this after your call of {date}:",
        "intro_anonymous": "Our agent wrote this after your call of {date}:",
        "not_solved": "If this did not solve it, open the help widget on our site and press "
                      "\u201cNot solved\u201d: you will be first in line for a call back.",
    },
    "zh-CN": {
        "subject": "我们为您的请求做了什么",
        "greeting": "{name}，您好：",
        "greeting_anonymous": "您好：",
        "intro": "{agent}在您{date}的通话之后写道：",
        "intro_anonymous": "我们的客服在您{date}的通话之后写道：",
        "not_solved": "如果问题仍未解决，请打开我们网站上的帮助窗口并点击“未解决”：您将优先获得回电。",
    },
    "zh-TW": {
        "subject": "我們為您的請求做了什麼",
        "greeting": "{name}，您好：",
        "greeting_anonymous": "您好：",
        "intro": "{agent}在您{date}的通話之後寫道：",
        "intro_anonymous": "我們的客服在您{date}的通話之後寫道：",
        "not_solved": "如果問題仍未解決，請打開我們網站上的幫助視窗並點擊「未解決」：您將優先獲得回電。",
    },
}


def summary_mail(*, to: str, sender: str, locale: str | None, name: str, agent: str | None,
                 summary: str, at: float, time_zone: str) -> EmailMessage:
    """The summary's e-mail to ``to`` in ``locale`` (English when it is none of :data:`MAIL`);
    ``at`` (epoch s) is written as a date and time in the centre's ``time_zone``."""
    words = MAIL.get(locale or "en", MAIL["en"])
    date = datetime.fromtimestamp(at, ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M")
    lines = [
        words["greeting"].format(name=name) if name else words["greeting_anonymous"],
        "",
        words["intro"].format(agent=agent, date=date) if agent else words["intro_anonymous"].format(date=date),
        "",
        summary,
        "",
        words["not_solved"],
    ]
    message = EmailMessage()
    message["Subject"] = words["subject"]
    message["From"] = sender
    message["To"] = formataddr((name, to)) if name else to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content("\n".join(lines) + "\n", charset="utf-8")
    message["Content-Language"] = locale if locale in MAIL else "en"  # after: set_content clears Content-*
    return message
