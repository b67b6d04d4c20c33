"""The after-call e-mail against a real local SMTP server (aiosmtpd): retried after a refusal,
logged in with credentials, given up after its attempts, never blocking the caller."""

from __future__ import annotations

import email
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from desktop.aftercall.mail import Mailer, SmtpConfig
from desktop.aftercall.words import summary_mail
from tests.helpers.server import free_port


class Flaky:
    """Refuses the first ``refusals`` messages with a temporary error, then takes them."""

    def __init__(self, refusals: int = 0):
        self.refusals = refusals
        self.tries = 0
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.tries += 1
        if self.tries <= self.refusals:
            return "451 4.3.0 try again later"
        self.messages.append((session.authenticated, email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"desk", b"s3cret")
    return AuthResult(success=ok)


@pytest.fixture
def smtp(request):
    handler = Flaky(refusals=getattr(request, "param", 0))
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    yield controller, handler
    controller.stop()


def message(locale="en"):
    return summary_mail(to="ann@example.com", sender="help@shop.test", locale=locale, name="Ann",
                        agent="Alice Martin", summary="Your refund is on its way.", at=1_790_000_000,
                        time_zone="Europe/Paris")


@pytest.mark.parametrize("smtp", [2], indirect=True)
async def test_a_refused_message_is_sent_again_with_the_login(smtp):
    controller, handler = smtp
    mailer = Mailer(SmtpConfig(host="127.0.0.1", port=controller.port, sender="help@shop.test",
                               username="desk", password="s3cret"), retry_delay=0.05)
    task = mailer.send_later(message())
    assert task is not None and not task.done()  # off the caller's path
    assert await task is True
    assert handler.tries == 3 and mailer.sent == 1 and mailer.failed == 0
    [(authenticated, mail)] = handler.messages
    assert authenticated
    assert mail["Subject"] == "What we did about your request" and mail["Content-Language"] == "en"
    body = mail.get_content()
    assert body.startswith("Hello Ann,") and "Alice Martin wrote this after your call of 2026-09-21" in body
    assert "Your refund is on its way." in body and "Not solved" in body


@pytest.mark.parametrize("smtp", [10], indirect=True)
async def test_it_gives_up_after_its_attempts(smtp):
    controller, handler = smtp
    mailer = Mailer(SmtpConfig(host="127.0.0.1", port=controller.port, sender="help@shop.test"),
                    attempts=3, retry_delay=0.01)
    assert await mailer.send_later(message()) is False
    assert handler.tries == 3 and mailer.failed == 1 and not handler.messages


async def test_wrong_credentials_and_no_server_are_failures_not_crashes(smtp):
    controller, _ = smtp
    wrong = Mailer(SmtpConfig(host="127.0.0.1", port=controller.port, sender="help@shop.test",
                              username="desk", password="nope"), attempts=1)
    assert await wrong.send_later(message()) is False
    nobody = Mailer(SmtpConfig(host="127.0.0.1", port=free_port(), sender="help@shop.test", timeout=2), attempts=1)
    assert await nobody.send_later(message()) is False


async def test_no_host_sends_nothing_and_a_host_needs_a_sender():
    from desktop.settings import Settings

    assert Mailer(SmtpConfig.from_settings(Settings())).send_later(message()) is None
    with pytest.raises(ValueError, match="OTODESK_SMTP_FROM"):
        SmtpConfig.from_settings(Settings(smtp_host="127.0.0.1"))


@pytest.mark.parametrize("locale, subject, words", [
    ("zh-CN", "我们为您的请求做了什么", "未解决"), ("zh-TW", "我們為您的請求做了什麼", "未解決"),
    ("fr", "What we did about your request", "Not solved")])
def test_the_message_is_in_the_customers_language(locale, subject, words):
    mail = message(locale)
    assert mail["Subject"] == subject and words in mail.get_content()
    assert mail["Content-Language"] == (locale if locale != "fr" else "en")
