"""``otodesk apikey`` and ``otodesk import`` as an operator runs them; the retention job;
identity verification's HMAC."""

from __future__ import annotations


import asyncio
import os
import hashlib
import hmac
import re

import pytest

from desktop.cli import main
from desktop.customers.identity import user_hash, verify_user_hash
from desktop.contacts.privacy import RetentionJob
from desktop.repository import Repository
from desktop.settings import Settings
from tests.conftest import FAST_HASHER


def test_user_hash_is_the_sites_hmac_and_only_that() -> None:
    expected = hmac.new(b"s3cret", b"user-1", hashlib.sha256).hexdigest()
    assert user_hash("s3cret", "user-1") == expected
    assert verify_user_hash("s3cret", "user-1", expected)
    assert verify_user_hash("s3cret", "user-1", expected.upper())
    assert not verify_user_hash("s3cret", "user-2", expected)
    assert not verify_user_hash("", "user-1", user_hash("", "user-1"))  # no secret: never verified
    assert not verify_user_hash("s3cret", "user-1", None)


def test_apikey_and_import_commands(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("OTODESK_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("OTODESK_DATABASE_URL", raising=False)
    assert main(["apikey", "create", "shop backend"]) == 0
    out = capsys.readouterr().out
    key = out.strip().splitlines()[-1]
    key_id = key.split("_")[1]
    assert key.startswith("otk_") and key_id in out
    assert main(["apikey", "list"]) == 0
    listed = capsys.readouterr().out
    assert key_id in listed and "active" in listed and key not in listed  # never the key itself
    assert main(["apikey", "revoke", key_id]) == 0
    assert main(["apikey", "revoke", "nope"]) == 1
    assert main(["apikey", "create", "reports", "--site", "shop-a", "--scopes", "read"]) == 0
    assert "site shop-a; may read)" in capsys.readouterr().out
    assert main(["apikey", "list"]) == 0
    assert re.search(r"active\s+shop-a\s+read\s+reports", capsys.readouterr().out)
    assert main(["apikey", "create", "x", "--scopes", "read,delete-all"]) == 2
    assert "unknown: delete-all" in capsys.readouterr().err

    good = tmp_path / "customers.csv"
    good.write_text("user_id,name,email,phone\nu-1,Mei Lin,mei@example.com,(415) 555-2671\n")
    bad = tmp_path / "orders.csv"
    bad.write_text("order_id,user_id,placed_at,total,currency\nA-1,u-1,2026-11-01,12.50,USD\n"
                   "A-2,u-1,someday,12.50,USD\nA-3,u-9,2026-11-01,1,USD\n")
    assert main(["import", "customers", str(good)]) == 0
    capsys.readouterr()
    assert main(["import", "orders", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "orders.csv:3: placed_at 'someday'" in err and "nothing was imported" in err
    assert main(["import", "orders", str(tmp_path / "missing.csv")]) == 2


async def test_retention_job_deletes_old_browsing(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    async with Repository.open(url, upgrade=True, password_hasher=FAST_HASHER) as repo:
        now = 1_800_000_000.0
        await repo.touch_visitor("v", now)
        await repo.record_page_view("v", url="https://a", title="", now=now - 40 * 86400)
        await repo.record_page_view("v", url="https://b", title="", now=now - 1)
        recordings = tmp_path / "recordings"
        recordings.mkdir()
        old, new = recordings / "old-call.ogg", recordings / "new-call.ogg"
        for path, written in ((old, now - 40 * 86400), (new, now - 60)):
            path.write_bytes(b"OggS")
            os.utime(path, (written, written))
        off = RetentionJob(repo, Settings(secret_key="x", retention_days=0, var_dir=tmp_path),
                           clock=lambda: now)
        assert await off.run_once() == 0
        job = RetentionJob(repo, Settings(secret_key="x", retention_days=30, var_dir=tmp_path),
                           clock=lambda: now)
        assert await job.run_once() == 2  # one page view, one recording
        assert [e.data["url"] for e in await repo.trail("v")] == ["https://b"]
        assert not old.exists() and new.exists()
        task = asyncio.create_task(job.run())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
