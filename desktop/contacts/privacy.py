"""The customer's rights beyond the database: erasure everywhere, and retention.

:func:`erase_everywhere` erases a person from the repository (see
:mod:`desktop.repository.erasure`), then from the other places their data
can sit:

- **Redis** (or the memory bus): the replay windows of every room named after
  one of their visitors or callbacks (``visitor:``, ``cobrowse:``,
  ``cobrowse-in:``, ``call:``...), and of every agent room and the wall, whose
  recent events carry offer cards with names, phones and pages. Agents and the
  wall simply get a full ``welcome`` on their next reconnect.
- **Files under var/** (recordings, pushed documents, snapshots): every file
  whose path names one of their visitor, callback or customer ids (a customer's
  own documents live in ``documents/customers/<customer_id>/``; the site-wide
  library is nobody's and stays). Features
  storing files must name them so (``var/recordings/<callback_id>.ogg``).
- **SQLite**: deleted rows are overwritten (``secure_delete``) and the WAL is
  checkpointed and truncated, so no old page image survives in ``var/``.

:class:`RetentionJob` deletes raw browsing trails (page views) older than
``OTODESK_RETENTION_DAYS`` every ``OTODESK_RETENTION_INTERVAL`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from desktop.customers.identity import user_hash
from desktop.repository.records import ErasureResult
from desktop.repository.repository import Repository
from desktop.rooms import visitor_room
from desktop.settings import Settings
from signaling.bus import Bus
from signaling.protocol.outbound import OutSignedOut

__all__ = ["erase_everywhere", "sign_out_everywhere", "RetentionJob", "VISITOR_ROOM_PREFIXES",
           "CALLBACK_ROOM_PREFIXES"]

log = logging.getLogger(__name__)

#: Rooms named ``<prefix><visitor id>``.
VISITOR_ROOM_PREFIXES = ("visitor:", "cobrowse:", "cobrowse-in:", "documents:", "voice:")
#: Rooms named ``<prefix><callback id>``.
CALLBACK_ROOM_PREFIXES = ("call:", "voice:", "documents:", "cobrowse:")
#: Rooms whose recent events may show anybody's details.
SHARED_ROOM_PREFIXES = ("agent:", "wall", "supervisor")
#: Never deleted by an erasure, whatever their name.
_KEEP_FILES = {"secret_key"}


async def erase_everywhere(repo: Repository, bus: Bus, settings: Settings, customer_id: str, *,
                           requested_by: str) -> ErasureResult:
    """Erase the person ``customer_id`` belongs to from the database, Redis and ``var/``.

    Their browsers are signed out (visitor tokens revoked) and each verified user id
    leaves a tombstone, the site's HMAC of it, so the site's next ``identify`` can't
    recreate them (see :mod:`desktop.repository.revocations`).
    Raises the repository's ``NotFound`` for an unknown customer (nothing done).
    """
    secret = settings.identity_secret
    result = await repo.erase_customer(
        customer_id, requested_by=requested_by,
        tombstone=(lambda user_id: user_hash(secret, user_id)) if secret else None)
    prefixes = [f"{p}{v}" for v in result.visitor_ids for p in VISITOR_ROOM_PREFIXES]
    prefixes += [f"{p}{c}" for c in result.callback_ids for p in CALLBACK_ROOM_PREFIXES]
    prefixes += list(SHARED_ROOM_PREFIXES)
    for prefix in prefixes:
        await bus.erase(prefix)
    await _tell_signed_out(bus, result.visitor_ids, "erased")
    ids = (*result.customer_ids, *result.visitor_ids, *result.callback_ids)
    removed = await asyncio.to_thread(_remove_files, Path(settings.var_dir), ids)
    if repo.database.dialect == "sqlite":
        await asyncio.to_thread(_checkpoint, settings.effective_database_url)
    log.info("erased a customer (%s): %s, %d file(s)", requested_by, result.counts, removed)
    return result


async def sign_out_everywhere(repo: Repository, bus: Bus, customer_id: str, *, reason: str) -> int:
    """Sign the person out of every browser: revoke their visitor tokens, end open sockets.

    Returns how many visitors (browsers) were signed out; 0 for an unknown customer.
    """
    visitor_ids = await repo.revoke_customer_visitors(customer_id, reason=reason)
    await _tell_signed_out(bus, visitor_ids, "signed_out")
    return len(visitor_ids)


async def _tell_signed_out(bus: Bus, visitor_ids, reason: str) -> None:
    # Their widgets (other tabs too) start afresh; the hub refuses what their sockets send next.
    for visitor_id in visitor_ids:
        await bus.publish(visitor_room(visitor_id), OutSignedOut(reason=reason).to_dict())


def _remove_files(var_dir: Path, ids: tuple[str, ...]) -> int:
    if not var_dir.is_dir() or not ids:
        return 0
    removed = 0
    for root, _dirs, files in os.walk(var_dir):
        for name in files:
            path = Path(root) / name
            relative = str(path.relative_to(var_dir))
            if name in _KEEP_FILES or not any(i in relative for i in ids):
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
    return removed


def _checkpoint(url: str) -> None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    connection = sqlite3.connect(database, timeout=30)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


class RetentionJob:
    """Deletes page views and call recordings older than ``settings.retention_days``;
    run :meth:`run` as a task."""

    def __init__(self, repo: Repository, settings: Settings, *, clock=time.time):
        self.repo = repo
        self.settings = settings
        self.clock = clock

    async def run_once(self) -> int:
        """One pass; returns the page views deleted (0 when retention is off)."""
        if self.settings.retention_days <= 0:
            return 0
        cutoff = self.clock() - self.settings.retention_days * 86400
        deleted = await self.repo.delete_browsing_before(cutoff)
        if deleted:
            log.info("retention: deleted %d page views older than %s days", deleted,
                     self.settings.retention_days)
        removed = await asyncio.to_thread(_delete_files_before, self.settings.var_dir / "recordings", cutoff)
        if removed:
            log.info("retention: deleted %d recordings older than %s days", removed,
                     self.settings.retention_days)
        return deleted + removed

    async def run(self) -> None:
        """Forever, until cancelled; a failed pass is logged and retried next interval."""
        if self.settings.retention_days <= 0:
            return
        while True:
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001 - a periodic job must survive a bad pass
                log.exception("retention pass failed")
            await asyncio.sleep(max(1.0, self.settings.retention_interval))


def _delete_files_before(folder, cutoff: float) -> int:
    """Remove files in ``folder`` last written before ``cutoff`` (epoch s); the count."""
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
