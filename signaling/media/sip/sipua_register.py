"""The trunk's standing with its registrar: REGISTER, refreshed; failures on the wall, retried.

:class:`Registering` is the part of :class:`~signaling.media.sip.sipua.SipuaTrunk`
that keeps an aiosipua :class:`~aiosipua.Registration` going: ``registering``
then ``registered``; a refusal (403, a wrong password), silence for
:data:`REGISTER_TIMEOUT` s (aiosipua doesn't retransmit REGISTER) or an
expiry is ``failed`` with its reason, tried again in ``config.register_retry``
s (:data:`REGISTER_RETRY` by default: ``OTODESK_SIP_REGISTER_RETRY``). Over TCP/TLS a registration needs the connection first
(:func:`~signaling.media.sip.sipua_stream.reconnect`).
"""

from __future__ import annotations

import asyncio
import logging

from aiosipua import Registration as SipRegistration
from aiosipua import RegistrationState as SipRegistrationState
from aiosipua import SipDigestAuth

from signaling.media.sip.sipua_stream import reconnect
from signaling.media.sip.transport import StreamTransport
from signaling.media.sip.trunk import Registration

__all__ = ["Registering", "REGISTER_RETRY", "REGISTER_TIMEOUT", "USER_AGENT"]

log = logging.getLogger(__name__)

REGISTER_RETRY = 30.0  # seconds between REGISTER attempts after a failure (TrunkConfig's default)
REGISTER_TIMEOUT = 8.0  # seconds without an answer to REGISTER: the registrar is unreachable
USER_AGENT = "otodesk"


class Registering:
    """Registration for a trunk with ``config``, ``_uac``, ``_transport``, ``proxy_address``,
    ``registration``, ``registration_error``, ``on_registration``, ``_register``, ``_retry``, ``_tasks``."""

    def _aor(self, user: str) -> str:
        return f"sip:{user}@{self.config.domain}"

    def _auth(self) -> SipDigestAuth | None:
        return SipDigestAuth(self.config.username, self.config.password) if self.config.username else None

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _schedule(self, delay: float, callback) -> None:
        """``callback`` in ``delay`` s: the one registration timer (a later one replaces it)."""
        if self._retry is not None:
            self._retry.cancel()
        self._retry = asyncio.get_running_loop().call_later(delay, callback)

    def _start_registration(self) -> None:
        self._retry = None
        if isinstance(self._transport, StreamTransport) and not self._transport.connected:
            self._spawn(reconnect(self))  # it registers once connected
            return
        registration = SipRegistration(self._uac, self._aor(self.config.username or "otodesk"), self.proxy_address,
                                       expires=self.config.register_expires, auth=self._auth(),
                                       user_agent=USER_AGENT)
        registration.on_registered = lambda r: self._set_registration(Registration.REGISTERED)
        registration.on_failed = self._registration_failed
        registration.on_expired = lambda r: self._registration_failed(r, 0, "registration expired")
        self._register = registration
        self._set_registration(Registration.REGISTERING)
        registration.register()
        # aiosipua doesn't retransmit REGISTER: an unreachable registrar never answers.
        self._retry = asyncio.get_running_loop().call_later(
            REGISTER_TIMEOUT, self._registration_silent, registration)

    def _registration_silent(self, registration: SipRegistration) -> None:
        if self._register is registration and registration.state == SipRegistrationState.REGISTERING:
            self._registration_failed(registration, 0, "the registrar did not answer")

    def _registration_failed(self, registration: SipRegistration, status: int, reason: str) -> None:
        if registration is self._register:
            self.registration_failed(f"{status} {reason}".strip() if status else reason)

    def registration_failed(self, reason: str) -> None:
        """The registration failed (``reason`` for the wall): FAILED, tried again in ``config.register_retry`` s."""
        self.drop_registration()
        self.registration_error = reason
        log.warning("SIP registration failed: %s; retrying in %g s", reason, self.config.register_retry)
        self._set_registration(Registration.FAILED)
        self._schedule(self.config.register_retry, self._start_registration)

    def drop_registration(self) -> None:
        """Forget the current registration: its refreshes and timeouts stop."""
        registration, self._register = self._register, None
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if registration is not None:
            registration._cancel_timers()
            if self._uac is not None:
                self._uac._registrations.pop(registration.call_id, None)

    def _set_registration(self, state: Registration) -> None:
        if state == Registration.REGISTERED:
            self.registration_error = ""
        if state != self.registration:
            self.registration = state
            if self.on_registration is not None:
                try:
                    self.on_registration(state)
                except Exception:
                    log.exception("registration handler failed")
