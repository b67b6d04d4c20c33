"""Identity verification: a site vouches for a logged-in customer with an HMAC.

The site's server computes ``user_hash = hex(HMAC-SHA256(OTODESK_IDENTITY_SECRET, user_id))``
and the page passes both to ``otodesk.identify({userId, userHash})``. Only a
matching hash links the visitor to the customer with that user id; anything
else is a claim, kept as a hint and never used to link records.

:func:`identify` applies what a site says (its HMAC already checked), with two rules
that make the customer's own choices stick (issue 9):

- an **erased** user id (a tombstone, see :mod:`desktop.repository.revocations`)
  links nothing and stores nothing: the site's next page can't recreate the person;
- a field the customer **corrected** in "My data" is not overwritten by the site's
  profile; the outcome lists the customer's values so the site can be told.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from typing import Any

__all__ = ["user_hash", "verify_user_hash", "Identified", "identify"]


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


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Identified:
    """What an ``identify`` did."""

    customer_id: str
    verified: bool
    #: The user id was erased at the person's request: nothing was linked or stored.
    erased: bool = False
    #: Fields the customer corrected that the site's hint contradicts: the customer's values.
    corrected: dict[str, str] = dataclasses.field(default_factory=dict)


async def identify(repo: Any, *, visitor_id: str, customer_id: str, user_id: str | None,
                   user_key: str | None, name: str | None, email: str | None, phone: str | None,
                   now: float) -> Identified:
    """Apply a site's ``identify`` for ``visitor_id`` (whose customer is ``customer_id``).

    ``user_id`` must already be verified against ``user_key`` (its ``user_hash``);
    ``phone`` is E.164. See the module docstring for erased and corrected customers.
    """
    verified = False
    if user_id is not None and user_key is not None:
        if await repo.user_erased(user_key.strip().lower()):
            return Identified(customer_id=customer_id, verified=False, erased=True)
        customer_id = (await repo.link_verified_user(visitor_id, user_id, now=now)).id
        verified = True
    customer = await repo.update_customer(customer_id, name=name, email=email, phone=phone,
                                          site_hint=True, now=now)
    kept = set(customer.corrected)
    await repo.record_identity_hints(customer_id, email=None if "email" in kept else email,
                                     phone=None if "phone" in kept else phone, now=now)
    given = {"name": name, "email": email, "phone": phone}
    corrected = {field: getattr(customer, field) for field, value in given.items()
                 if field in kept and value is not None
                 and value.strip().lower() != (getattr(customer, field) or "").lower()}
    return Identified(customer_id=customer_id, verified=verified, corrected=corrected)
