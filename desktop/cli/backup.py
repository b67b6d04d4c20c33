"""``otodesk backup DIR`` and ``otodesk restore DIR``: the database, the files, and erasures kept.

A backup is a directory: the database (SQLite's online backup, or ``pg_dump -Fc``), every file
under ``var/`` (pushed documents, recordings) but the database's own and the secret, and a
``manifest.json`` (when, the schema revision, the database kind, what is in it). The secret
key is left out unless asked for: keep it in your secret store, apart from the data it signs.

Restoring puts an old copy back, so it could bring back people erased since. So ``restore``
first reads, from the database it replaces, every erased customer id, revoked browser and
tombstone, and after the copy is in place erases again every listed person it holds
(database, files) and keeps the lists: an erasure stays erased. Stop every otodesk process
before restoring.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from desktop.settings import Settings

__all__ = ["backup", "restore", "BackupError"]

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
FILES = "files"
SECRET_FILE = "secret_key"


class BackupError(Exception):
    """Said to the operator as it is; nothing was changed."""


@dataclass
class Carried:
    """What the replaced database knew of erasures: applied again to the restored one."""

    erased_customers: dict[str, float] = field(default_factory=dict)
    revoked_visitors: list[dict] = field(default_factory=list)
    erased_users: list[dict] = field(default_factory=list)


# -- backup -----------------------------------------------------------------------------------


async def backup(settings: Settings, target: Path, *, with_secret: bool = False) -> Path:
    """Write a backup under ``target`` (a new directory named by the time); its path."""
    url = make_url(settings.effective_database_url)
    kind = _kind(url)
    revision = await _on_database(url, _revision)
    if revision is None:
        raise BackupError(f"no otodesk database at {url.render_as_string()}: nothing to back up")
    folder = target / time.strftime("otodesk-%Y%m%dT%H%M%SZ", time.gmtime())
    folder.mkdir(parents=True, exist_ok=False)
    if kind == "sqlite":
        with contextlib.closing(sqlite3.connect(url.database)) as source, \
                contextlib.closing(sqlite3.connect(folder / SQLITE_FILE)) as copy:
            source.backup(copy)  # consistent while the server writes
    else:
        await asyncio.to_thread(_run, ["pg_dump", "--format=custom", "--no-owner",
                                       f"--file={folder / PG_FILE}", _libpq(url)])
    var_dir = Path(settings.var_dir)
    skip = _own_files(url, var_dir) | {folder.resolve()}
    files = await asyncio.to_thread(_copy_tree, var_dir, folder / FILES, skip) if var_dir.is_dir() else 0
    if with_secret:
        (folder / SECRET_FILE).write_text(settings.secret_key)
        (folder / SECRET_FILE).chmod(0o600)
    manifest = {"format": 1, "created_at": time.time(), "revision": revision, "database": kind,
                "files": files, "secret": with_secret}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return folder


# -- restore ----------------------------------------------------------------------------------


async def restore(settings: Settings, source: Path, *, replace: bool = False) -> dict:
    """Put the backup at ``source`` in place; what was restored and erased again."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{source} is not an otodesk backup (no readable {MANIFEST}: {error})") from None
    url = make_url(settings.effective_database_url)
    kind = _kind(url)
    if manifest.get("database") != kind:
        raise BackupError(f"the backup holds a {manifest.get('database')} database; this server is "
                          f"configured for {kind} (OTODESK_DATABASE_URL)")
    held = await _on_database(url, _holdings) or ""
    if held and not replace:
        raise BackupError(f"the database at {url.render_as_string()} holds data ({held}): pass --replace "
                          "to put the backup in its place (erasures made since are applied again)")
    carried = await _on_database(url, _carried) or Carried()

    var_dir = Path(settings.var_dir)
    if kind == "sqlite":
        database = Path(url.database)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        database.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / SQLITE_FILE, database)
    else:
        await _on_database(url, _empty_schema)
        await asyncio.to_thread(_run, ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq(url)}",
                                       str(source / PG_FILE)])
    files = await asyncio.to_thread(_copy_tree, source / FILES, var_dir, set()) if (source / FILES).is_dir() else 0
    if manifest.get("secret") and (source / SECRET_FILE).exists() and not (var_dir / SECRET_FILE).exists():
        shutil.copyfile(source / SECRET_FILE, var_dir / SECRET_FILE)
        (var_dir / SECRET_FILE).chmod(0o600)
    erased = await _erase_again(settings, carried)
    return {"backup_of": manifest["created_at"], "revision": manifest["revision"], "files": files,
            "erased_again": erased}


async def _erase_again(settings: Settings, carried: Carried) -> int:
    from desktop.contacts.privacy import erase_everywhere
    from desktop.repository.errors import NotFound
    from desktop.repository.migrate import upgrade_database_async
    from desktop.repository.repository import Repository
    from signaling.bus import open_bus

    await upgrade_database_async(settings.effective_database_url)  # an older backup: to head
    erased = 0
    async with Repository.open(settings.effective_database_url) as repo, open_bus(None) as bus:
        owners = await repo.owners_of_visitors(
            row["visitor_id"] for row in carried.revoked_visitors if row["reason"] == "erasure")
        for customer_id in dict.fromkeys([*carried.erased_customers, *owners]):
            with contextlib.suppress(NotFound):  # gone already, or never in this copy
                await erase_everywhere(repo, bus, settings, customer_id, requested_by="restore")
                erased += 1
        await repo.keep_erasure_lists(erased_customers=carried.erased_customers,
                                      revoked_visitors=carried.revoked_visitors, erased_users=carried.erased_users)
    return erased


# -- the database, read without the server ------------------------------------------------------


def _kind(url) -> str:
    return "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"


async def _on_database(url, fn):
    """``fn(connection)`` on the database at ``url`` in one transaction; None when there is no
    database file (SQLite) to open."""
    if _kind(url) == "sqlite" and not Path(url.database or "").exists():
        return None
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def _revision(conn) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _empty_schema(conn) -> None:
    conn.execute(text("DROP SCHEMA public CASCADE"))
    conn.execute(text("CREATE SCHEMA public"))


def _holdings(conn) -> str:
    """"" for an empty database, else what it holds in words."""
    tables = set(inspect(conn).get_table_names())
    counts = {name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar()
              for name in ("agents", "customers", "callbacks") if name in tables}
    return ", ".join(f"{n} {name}" for name, n in counts.items() if n)


def _carried(conn) -> Carried:
    carried = Carried()
    tables = set(inspect(conn).get_table_names())
    if "erased_customers" in tables:
        carried.erased_customers = dict(conn.execute(text(
            "SELECT customer_id, erased_at FROM erased_customers")).all())
    if "revoked_visitors" in tables:
        carried.revoked_visitors = [dict(row._mapping) for row in conn.execute(text(
            "SELECT visitor_id, revoked_at, reason FROM revoked_visitors"))]
    if "erased_users" in tables:
        carried.erased_users = [dict(row._mapping) for row in conn.execute(text(
            "SELECT user_key, erased_at, requested_by FROM erased_users"))]
    return carried


# -- files and tools --------------------------------------------------------------------------


def _own_files(url, var_dir: Path) -> set[Path]:
    """The database's own files and the secret: never copied as plain files."""
    own = {(var_dir / SECRET_FILE).resolve()}
    if _kind(url) == "sqlite":
        own |= {Path(f"{url.database}{suffix}").resolve() for suffix in ("", "-wal", "-shm", "-journal")}
    return own


def _copy_tree(source: Path, target: Path, skip: set[Path]) -> int:
    copied = 0
    for path in sorted(source.rglob("*")):
        if path.resolve() in skip or any(parent.resolve() in skip for parent in path.parents):
            continue
        if path.is_file():
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
            copied += 1
    return copied


def _libpq(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is missing: install PostgreSQL's client tools (Debian: postgresql-client)")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip() or done.returncode}")


def print_report(report: dict) -> None:
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(report["backup_of"]))
    print(f"restored the backup of {when} (schema {report['revision']}, {report['files']} file(s)); "
          f"{report['erased_again']} customer(s) erased since were erased again", file=sys.stdout)
