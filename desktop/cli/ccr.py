"""``otodesk apikey create|revoke|list`` and ``otodesk import customers|orders|products FILE``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from desktop.settings import Settings

__all__ = ["run"]


def run(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_run(settings, args))


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.repository.errors import NotFound
    from desktop.repository.imports import ImportFailed
    from desktop.repository.migrate import upgrade_database_async
    from desktop.repository.repository import Repository

    url = settings.effective_database_url
    await upgrade_database_async(url)
    async with Repository.open(url) as repo:
        if args.command == "apikey":
            if args.action == "create":
                try:
                    record, key = await repo.create_api_key(name=args.name, site=args.site,
                                                            scopes=args.scopes.split(","))
                except ValueError as error:
                    print(f"otodesk: {error}", file=sys.stderr)
                    return 2
                site = "every site" if record.site == "*" else f"site {record.site}"
                print(f"created API key {record.id} ({record.name}; {site}; may "
                      f"{', '.join(record.scopes)}); it is shown only now:\n{key}")
                return 0
            if args.action == "revoke":
                try:
                    record = await repo.revoke_api_key(args.key_id)
                except NotFound:
                    print(f"otodesk: no API key with id {args.key_id!r}", file=sys.stderr)
                    return 1
                print(f"revoked API key {record.id} ({record.name})")
                return 0
            for record in await repo.list_api_keys():
                state = "revoked" if record.revoked_at else "active"
                scopes = ",".join(record.scopes)
                print(f"{record.id}  {state:<8} {record.site:<10} {scopes:<16} {record.name}")
            return 0
        try:
            text = Path(args.file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            print(f"otodesk: can't read {args.file}: {error}", file=sys.stderr)
            return 2
        try:
            count = await repo.import_csv(args.kind, text, default_region=settings.default_region)
        except ImportFailed as failed:
            print(f"otodesk: {args.file}: {len(failed.errors)} bad row(s); nothing was imported",
                  file=sys.stderr)
            for error in failed.errors:
                print(f"  {args.file}:{error.line}: {error.message}", file=sys.stderr)
            return 1
        print(f"imported {count} {args.kind} from {args.file}")
        return 0
