"""Signed tokens: agent sessions, CSRF tokens and customer visitor tokens.

Nothing the browser holds is trusted unless it carries our signature
(itsdangerous, keyed by ``Settings.secret_key``, one salt per purpose so a
token of one kind can never be replayed as another).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = ["Signer", "SESSION_COOKIE", "SESSION_MAX_AGE", "VISITOR_MAX_AGE", "ME_MAX_AGE", "tokens_equal"]

SESSION_COOKIE = "otodesk_session"
SESSION_MAX_AGE = 12 * 3600          # seconds: one long shift
VISITOR_MAX_AGE = 365 * 24 * 3600    # seconds: a returning customer is recognised for a year
ME_MAX_AGE = 15 * 60                 # seconds: a "My data" token (the whole record) is short-lived


def tokens_equal(expected: str, given: str | None) -> bool:
    """Constant-time equality of two tokens, for any text a client sends.

    ``hmac.compare_digest`` raises TypeError on a non-ASCII ``str``; a forged
    token is a wrong token, never a server error, so both sides go in as UTF-8.
    """
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


class Signer:
    def __init__(self, secret_key: str, *, session_max_age: float = SESSION_MAX_AGE):
        if not secret_key:
            raise ValueError("secret_key must not be empty")
        self._secret = secret_key.encode()
        self._session_max_age = session_max_age
        self._sessions = URLSafeTimedSerializer(secret_key, salt="otodesk.session")
        self._visitors = URLSafeTimedSerializer(secret_key, salt="otodesk.visitor")
        self._me = URLSafeTimedSerializer(secret_key, salt="otodesk.me")
        self._setup = URLSafeTimedSerializer(secret_key, salt="otodesk.setup")
        self._second_step = URLSafeTimedSerializer(secret_key, salt="otodesk.second-step")

    # -- agents ---------------------------------------------------------------

    def session_token(self, agent_id: str, session_id: str | None = None) -> str:
        """A cookie value naming the agent, with a random id the CSRF token is bound to.

        The signature alone does not make a session: ``desktop.auth.staff`` also finds
        ``session_id`` among the live sessions in the repository (sign-out revokes it)."""
        return self._sessions.dumps({"agent": agent_id, "sid": session_id or secrets.token_urlsafe(12)})

    def read_session(self, token: str | None) -> dict | None:
        """The signed session dict, or None when missing, forged or older than the
        session max age. Signed is not live: use ``desktop.auth.staff.staff_session``."""
        if not token:
            return None
        try:
            data = self._sessions.loads(token, max_age=self._session_max_age)
        except BadSignature:
            return None
        return data if isinstance(data, dict) and "agent" in data else None

    def csrf_token(self, session_id: str) -> str:
        """Bound to one session: a form posted from another site can't know it."""
        return hmac.new(self._secret, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, session_id: str, token: str | None) -> bool:
        return tokens_equal(self.csrf_token(session_id), token)

    # -- between the password and the second factor (desktop/web/second_step.py) --------

    def second_step_token(self, agent_id: str, username: str, *, purpose: str, next_url: str) -> str:
        """Says the password of ``agent_id`` was right, and nothing more: no staff page, API or
        socket reads it (another salt than sessions'), only the second step. ``purpose`` is
        ``code`` (ask the code) or ``enrol`` (a role that must enrol first)."""
        return self._second_step.dumps({"agent": agent_id, "username": username, "purpose": purpose,
                                        "next": next_url})

    def read_second_step(self, token: str | None, *, max_age: float) -> dict | None:
        """The token's dict, or None when missing, forged or older than ``max_age`` seconds."""
        if not token or len(token) > 1024:
            return None
        try:
            value = self._second_step.loads(token, max_age=max_age)
        except BadSignature:
            return None
        keys = ("agent", "username", "purpose", "next")
        return value if isinstance(value, dict) and all(isinstance(value.get(k), str) for k in keys) else None

    # -- customers --------------------------------------------------------------

    def visitor_token(self, visitor_id: str) -> str:
        return self._visitors.dumps(visitor_id)

    def read_visitor(self, token: str | None) -> str | None:
        """The visitor id, or None when missing, forged or expired."""
        if not token or len(token) > 512:
            return None
        try:
            value = self._visitors.loads(token, max_age=VISITOR_MAX_AGE)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def me_token(self, visitor_id: str, customer_id: str) -> str:
        """A short-lived key to "My data", given only in the ack of a verified ``identify``.

        The year-long visitor token only recognises a browser; the whole record needs
        the site's fresh word (its HMAC) that this person is signed in now.
        """
        return self._me.dumps({"v": visitor_id, "c": customer_id})

    def read_me(self, token: str | None) -> tuple[str, str] | None:
        """``(visitor_id, customer_id)``, or None when missing, forged or older than ME_MAX_AGE."""
        if not token or len(token) > 512:
            return None
        try:
            value = self._me.loads(token, max_age=ME_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("v", "c")):
            return None
        return value["v"], value["c"]

    # -- the first admin (desktop/web/setup.py) ----------------------------------------

    def setup_token(self, nonce: str) -> str:
        """The token of a one-time set-up link: ``nonce`` signed and timed."""
        return self._setup.dumps(nonce)

    def read_setup(self, token: str | None, *, max_age: float) -> str | None:
        """The nonce, or None when missing, forged or older than ``max_age`` seconds."""
        if not token or len(token) > 512:
            return None
        try:
            value = self._setup.loads(token, max_age=max_age)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None
