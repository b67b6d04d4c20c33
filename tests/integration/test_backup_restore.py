"""``otodesk backup`` and ``otodesk restore``, run as an operator runs them, on SQLite and
PostgreSQL: the database and the files come back, the secret stays out unless asked for, a
database with data is not replaced by mistake, and a person erased after the backup stays
erased after the restore (database and files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from desktop.contacts.privacy import erase_everywhere
from desktop.repository import Repository
from desktop.settings import Settings
from signaling.bus import open_bus
from tests.helpers.server import ROOT


def otodesk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop.cli", *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=180)


def document(var: Path, customer_id: str) -> Path:
    path = var / "documents" / "customers" / customer_id / "quote.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 " + customer_id.encode())
    return path


async def test_a_restore_brings_back_data_and_files_but_not_who_was_erased_since(tmp_path, database_url,
                                                                                 monkeypatch):
    var = tmp_path / "var"
    env = {"OTODESK_VAR_DIR": str(var), "OTODESK_DATABASE_URL": database_url, "OTODESK_DEMO_HISTORY": "0",
           "OTODESK_REDIS_URL": ""}
    seeded = otodesk(env, "demo", "--no-serve")
    assert seeded.returncode == 0, seeded.stderr
    monkeypatch.setenv("OTODESK_VAR_DIR", str(var))
    settings = Settings.from_env(database_url=database_url)
    async with Repository.open(database_url) as repo:
        erased = await repo.touch_visitor("visitor-erased-later", 1.0)
        kept = await repo.create_customer(name="Bea Kept", email="bea@example.com")
    erased_file, kept_file = document(var, erased.customer_id), document(var, kept.id)

    made = otodesk(env, "backup", str(tmp_path / "backups"))
    assert made.returncode == 0, made.stderr
    (folder,) = (tmp_path / "backups").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["database"] == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
    assert manifest["revision"] and manifest["secret"] is False and manifest["files"] >= 2
    assert not list(folder.rglob("secret_key")), "the secret stays out of a backup unless asked for"

    # After the backup: the person is erased (database and files), someone new arrives.
    async with Repository.open(database_url) as repo, open_bus(None) as bus:
        await erase_everywhere(repo, bus, settings, erased.customer_id, requested_by="customer")
        late = await repo.create_customer(name="Late Arrival")
    assert not erased_file.exists()

    refused = otodesk(env, "restore", str(folder))
    assert refused.returncode == 2
    assert "holds data" in refused.stderr and "--replace" in refused.stderr
    async with Repository.open(database_url) as repo:
        assert await repo.get_customer(late.id) is not None, "a refused restore changed nothing"

    restored = otodesk(env, "restore", str(folder), "--replace")
    assert restored.returncode == 0, restored.stderr
    assert "1 customer(s) erased since were erased again" in restored.stdout
    async with Repository.open(database_url) as repo:
        assert await repo.get_customer(kept.id) is not None
        assert await repo.get_customer(erased.customer_id) is None
        assert await repo.get_visitor("visitor-erased-later") is None
        assert await repo.visitor_revoked("visitor-erased-later")
        assert await repo.get_customer(late.id) is None  # the backup's moment, not later
    assert kept_file.read_bytes().startswith(b"%PDF")
    assert not erased_file.exists(), "the backup's copy of an erased person's file came back"

    # Restored again from the same backup: still erased (the list was kept in the restored copy).
    again = otodesk(env, "restore", str(folder), "--replace")
    assert again.returncode == 0, again.stderr
    async with Repository.open(database_url) as repo:
        assert await repo.get_customer(erased.customer_id) is None
    assert not erased_file.exists()


async def test_the_secret_goes_in_only_when_asked_and_a_wrong_folder_is_said(tmp_path, database_url):
    var = tmp_path / "var"
    env = {"OTODESK_VAR_DIR": str(var), "OTODESK_DATABASE_URL": database_url, "OTODESK_REDIS_URL": "",
           "OTODESK_SECRET_KEY": ""}
    assert otodesk(env, "db", "upgrade").returncode == 0
    made = otodesk(env, "backup", str(tmp_path / "b"), "--with-secret")
    assert made.returncode == 0, made.stderr
    (folder,) = (tmp_path / "b").iterdir()
    assert (folder / "secret_key").read_text() == (var / "secret_key").read_text()
    assert oct((folder / "secret_key").stat().st_mode & 0o777) == "0o600"

    wrong = otodesk(env, "restore", str(tmp_path))
    assert wrong.returncode == 2 and "is not an otodesk backup" in wrong.stderr
