"""Identity verification: a site vouches for a logged-in customer with an HMAC.

The site's server computes ``user_hash = hex(HMAC-SHA256(OTODESK_IDENTITY_SECRET, user_id))``
and the page passes both to ``otodesk.identify({userId, userHash})``. Only a
matching hash links the visitor to the customer with that user id; anything
else is a claim, kept as a hint and never used to link records.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from desktop.settings import stored_secret

__all__ = ["user_hash", "verify_user_hash", "demo_identity_secret"]


def user_hash(secret: str, user_id: str) -> str:
    """What the site computes: hex HMAC-SHA256 of ``user_id`` keyed with ``secret``."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def verify_user_hash(secret: str, user_id: str | None, given: str | None) -> bool:
    """True only with a secret configured and ``given`` equal to :func:`user_hash` (constant time)."""
    if not secret or not user_id or not given:
        return False
    # Bytes, not str: compare_digest raises TypeError on a non-ASCII str (a forged hash
    # must read as a wrong hash, not a server error).
    return hmac.compare_digest(user_hash(secret, user_id).encode(),
                               given.strip().lower().encode("utf-8", "surrogatepass"))


def demo_identity_secret(var_dir: Path) -> str:
    """The identity secret ``otodesk demo`` uses when none is set: made once into ``var/``.

    The demo shop (same server) signs its customers in with it. A real site sets
    ``OTODESK_IDENTITY_SECRET`` and keeps it on its own server.
    """
    return stored_secret(var_dir, "identity_secret")
