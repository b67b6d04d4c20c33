"""A staff member's second factor: who needs one, enrolment, and checking a code at sign-in.

The codes themselves are ``desktop/auth/totp.py``'s (pure); this module is the I/O around them,
on the app's state (``repo``, ``totp_box``, ``settings``), used by the sign-in's second step
(``desktop/web/second_step.py``) and the member's own security page (``desktop/web/account.py``).

A code is checked by :func:`check_code`, which answers a :class:`CodeCheck`: six digits are a
TOTP code (accepted once: its time step must be later than the last accepted), anything else
is tried as a recovery code (spent on use). Throttling is the caller's (``LoginThrottle``).
"""

from __future__ import annotations

import dataclasses
import enum
import logging

import segno

from desktop.auth import totp

__all__ = ["CodeCheck", "Enrolment", "check_code", "confirm_enrolment", "has_second_factor",
           "must_enrol", "start_enrolment"]

log = logging.getLogger(__name__)


class CodeCheck(enum.Enum):
    TOTP = "totp"            # the app's code, accepted
    RECOVERY = "recovery"    # a recovery code, now spent
    WRONG = "wrong"          # neither
    REUSED = "reused"        # the app's code of a step already accepted (a replay, or typed twice)

    @property
    def accepted(self) -> bool:
        return self in (CodeCheck.TOTP, CodeCheck.RECOVERY)


def must_enrol(settings, agent) -> bool:
    """Whether the member's role must have a second factor (``OTODESK_REQUIRE_TOTP``); never
    an SSO account, whose provider asks for its own."""
    return not agent.sso and agent.role in settings.require_totp


async def has_second_factor(state, agent) -> bool:
    if agent.sso:
        return False
    factor = await state.repo.second_factor(agent.id)
    return factor is not None and factor.enrolled


async def check_code(state, agent_id: str, text: str, *, now: float) -> CodeCheck:
    """Check what the member typed against their confirmed factor (spending it when right)."""
    factor = await state.repo.second_factor(agent_id)
    if factor is None or not factor.enrolled:
        return CodeCheck.WRONG
    text = text.strip()[:40]
    box = state.totp_box
    if totp.looks_like_totp(text):
        secret = box.open(factor.secret)
        if secret is None:  # sealed under another key: only an admin's reset helps
            log.warning("second factor of %s can't be opened: was OTODESK_TOTP_KEY (or SECRET_KEY) changed?",
                        agent_id)
            return CodeCheck.WRONG
        step = totp.matching_step(secret, text, now=now)
        if step is None:
            return CodeCheck.WRONG
        return CodeCheck.TOTP if await state.repo.use_totp_step(agent_id, step) else CodeCheck.REUSED
    code = totp.normalise_recovery_code(text)
    if code is not None and await state.repo.use_recovery_code(agent_id, box.recovery_digest(agent_id, code),
                                                               now=now):
        return CodeCheck.RECOVERY
    return CodeCheck.WRONG


@dataclasses.dataclass(frozen=True, slots=True)
class Enrolment:
    """What the enrolment shows: the secret as text (typed into an app by hand), the
    ``otpauth://`` URI, and that URI as a QR code (an SVG ``data:`` URI for an ``<img>``)."""

    secret: str
    uri: str

    @property
    def qr(self) -> str:
        # segno: pure Python, SVG out; medium error correction reads well off a screen.
        return segno.make(self.uri, error="m").svg_data_uri(scale=5, border=2)

    @property
    def grouped(self) -> str:
        """The secret in groups of four letters, as apps accept it typed."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))

    def public(self) -> dict[str, str]:
        return {"secret": self.secret, "secret_grouped": self.grouped, "uri": self.uri, "qr": self.qr}


async def start_enrolment(state, agent, *, now: float, keep: bool = False) -> Enrolment:
    """A secret for the member to add to their app, kept pending until a code confirms it.
    ``keep``: show the one already pending, if any (a reload of the page shows the same QR)."""
    secret = None
    if keep:
        factor = await state.repo.second_factor(agent.id)
        secret = state.totp_box.open(factor.pending) if factor is not None else None
    if secret is None:
        secret = totp.new_secret()
        await state.repo.set_pending_totp(agent.id, state.totp_box.seal(secret), now=now)
    return Enrolment(secret, totp.provisioning_uri(secret, account=agent.username, issuer=state.settings.totp_issuer))


async def confirm_enrolment(state, agent, code: str, *, now: float, actor: str) -> list[str] | CodeCheck | None:
    """Turn the pending secret on if ``code`` is its current code; returns the recovery codes
    (shown once), ``CodeCheck.WRONG`` for a wrong code, None when nothing is pending any more
    (enrolled meanwhile, or started again in another tab)."""
    factor = await state.repo.second_factor(agent.id)
    if factor is None or factor.pending is None or factor.enrolled:
        return None
    secret = state.totp_box.open(factor.pending)
    step = totp.matching_step(secret, code.strip(), now=now) if secret is not None else None
    if step is None:
        return CodeCheck.WRONG
    codes = totp.new_recovery_codes()
    digests = [state.totp_box.recovery_digest(agent.id, totp.normalise_recovery_code(c)) for c in codes]
    if not await state.repo.confirm_totp(agent.id, pending=factor.pending, step=step, digests=digests,
                                         actor=actor, now=now):
        return None
    return codes
