"""Sending e-mail through the configured SMTP server, off the request path, with retries.

``smtplib`` runs in a worker thread (a slow or unreachable server never holds up the event
loop or the agent's wrap-up). A failed attempt is tried again after ``retry_delay`` seconds,
then 4x that, and so on, ``attempts`` times in all; then it is logged and dropped (the
summary is still in the widget and on the timeline). Without a host nothing is sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import smtplib
import ssl
from email.message import EmailMessage

__all__ = ["SmtpConfig", "Mailer"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SmtpConfig:
    host: str
    port: int = 25
    sender: str = ""
    #: Upgrade the connection with STARTTLS before logging in (``username``) and sending.
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 10.0  # seconds, each connection and command

    @classmethod
    def from_settings(cls, settings) -> "SmtpConfig | None":
        if not settings.smtp_host:
            return None
        if "@" not in settings.smtp_from:
            raise ValueError("OTODESK_SMTP_FROM must be the sender's address (help@example.com) "
                             "when OTODESK_SMTP_HOST is set")
        return cls(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
                   starttls=settings.smtp_starttls, username=settings.smtp_username,
                   password=settings.smtp_password, timeout=settings.smtp_timeout)


class Mailer:
    """Sends messages in background tasks; :meth:`aclose` cancels those still retrying."""

    def __init__(self, config: SmtpConfig | None, *, attempts: int = 4, retry_delay: float = 5.0) -> None:
        self.config = config
        self.attempts = max(1, attempts)
        self.retry_delay = retry_delay
        self._tasks: set[asyncio.Task] = set()
        #: Messages handed to the server (for /metrics and tests), and given up on.
        self.sent = 0
        self.failed = 0

    @property
    def enabled(self) -> bool:
        return self.config is not None

    def send_later(self, message: EmailMessage) -> asyncio.Task | None:
        """Send ``message`` in the background; returns its task (None when mail is off)."""
        if self.config is None:
            return None
        task = asyncio.create_task(self._send_with_retries(message), name="mail")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _send_with_retries(self, message: EmailMessage) -> bool:
        delay = self.retry_delay
        for attempt in range(1, self.attempts + 1):
            try:
                await asyncio.to_thread(self._send, message)
            except (OSError, smtplib.SMTPException) as exc:
                if attempt == self.attempts:
                    self.failed += 1
                    log.error("could not send mail to %s after %d attempts: %s", message["To"], attempt, exc)
                    return False
                log.warning("mail to %s failed (attempt %d of %d), trying again in %.0f s: %s",
                            message["To"], attempt, self.attempts, delay, exc)
                await asyncio.sleep(delay)
                delay *= 4
            else:
                self.sent += 1
                return True
        return False

    def _send(self, message: EmailMessage) -> None:
        config = self.config
        assert config is not None
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.username:
                smtp.login(config.username, config.password)
            smtp.send_message(message)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
