"""Per-site API keys: shown once, stored as a SHA-256, revocable, scoped.

A key may do what its scopes say (``read``, ``write``, ``erase``; see
:data:`API_SCOPES`) and, made for one site, sees only that site's customers
(``ALL_SITES``, ``*``, sees every site's).

A key reads ``otk_<id>_<secret>``; ``<id>`` is public (it names the key in
listings and the audit), ``<secret>`` is 32 random bytes. A SHA-256 of the
whole key is enough at rest: the secret has 256 bits of entropy, nothing to
brute-force, and checking it stays a single indexed look-up.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from desktop.repository._store import API_KEYS, Store
from desktop.repository.errors import NotFound
from desktop.repository.records import ApiKeyRecord

__all__ = ["ApiKeys", "hash_key", "API_SCOPES", "ALL_SITES", "check_scopes"]

PREFIX = "otk"
#: What a key may be allowed: read anything of its site, change it, erase people.
API_SCOPES = ("read", "write", "erase")
#: The site of a key that sees every site's data.
ALL_SITES = "*"


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """``scopes`` in canonical order, or ValueError naming the unknown ones (or none given)."""
    wanted = {s.strip().lower() for s in scopes if s.strip()}
    unknown = sorted(wanted - set(API_SCOPES))
    if unknown or not wanted:
        raise ValueError(f"scopes must be some of {', '.join(API_SCOPES)}"
                         + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    return tuple(s for s in API_SCOPES if s in wanted)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _record(row) -> ApiKeyRecord:
    m = dict(row._mapping)
    m.pop("key_hash", None)
    m["scopes"] = tuple(m.get("scopes", "").split())
    return ApiKeyRecord(**m)


class ApiKeys(Store):
    async def create_api_key(self, *, name: str, site: str = ALL_SITES,
                             scopes: Iterable[str] = ("read", "write"),
                             now: float | None = None) -> tuple[ApiKeyRecord, str]:
        """A new key: its record and the key itself, which is not stored and can't be shown again.

        ``erase`` must be asked for; ``site`` limits the key to that site's customers.
        Raises ValueError for unknown scopes or an empty site.
        """
        granted = check_scopes(scopes)
        site = site.strip()
        if not site or len(site) > 100:
            raise ValueError("a site is 1 to 100 characters (or * for every site)")
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        now = time.time() if now is None else now
        row = await self._db.write(lambda conn: conn.execute(API_KEYS.insert().values(
            id=key_id, site=site, name=name, key_hash=hash_key(key), created_at=now,
            scopes=" ".join(granted),
        ).returning(API_KEYS)).one())
        return _record(row), key

    async def revoke_api_key(self, key_id: str, *, now: float | None = None) -> ApiKeyRecord:
        """Revoke the key (idempotent). Raises :class:`NotFound` for an unknown id."""
        now = time.time() if now is None else now

        def revoke(conn: Connection):
            conn.execute(update(API_KEYS).where(API_KEYS.c.id == key_id, API_KEYS.c.revoked_at.is_(None))
                         .values(revoked_at=now))
            return conn.execute(select(API_KEYS).where(API_KEYS.c.id == key_id)).first()

        row = await self._db.write(revoke)
        if row is None:
            raise NotFound(f"No API key with id {key_id!r}")
        return _record(row)

    async def list_api_keys(self) -> list[ApiKeyRecord]:
        rows = await self._db.read(lambda conn: conn.execute(
            select(API_KEYS).order_by(API_KEYS.c.created_at)).all())
        return [_record(row) for row in rows]

    async def check_api_key(self, key: str) -> ApiKeyRecord | None:
        """The live key ``key`` is, or None (unknown, malformed or revoked)."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX or len(key) > 200:
            return None
        row = await self._db.read(lambda conn: conn.execute(
            select(API_KEYS).where(API_KEYS.c.id == parts[1])).first())
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.key_hash, hash_key(key)):
            return None
        return _record(row)
