"""The ``otodesk`` command: serve, demo, user add / reset-2fa, db upgrade, apikey, import, analytics, backup,
restore."""

from __future__ import annotations

import argparse
import dataclasses
import asyncio
import getpass
import os
import sys
from pathlib import Path

from desktop.cli.logs import configure_logging
from desktop.settings import Settings

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="otodesk", description="A real-time agent desktop.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server (OTODESK_* settings)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1,
                       help="processes sharing the port (needs OTODESK_REDIS_URL: they meet on Redis)")

    demo = commands.add_parser("demo", help="seed the demo shop, agents and supervisor, then serve")
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    demo.add_argument("--no-serve", action="store_true", help="only seed the database")

    user = commands.add_parser("user", help="manage agents").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="add an agent, supervisor or admin")
    add.add_argument("username")
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--role", choices=("agent", "supervisor", "admin", "planner"), default="agent")
    add.add_argument("--skills", default="", help="comma-separated, e.g. sales,support")
    add.add_argument("--password", help="default: asked on the terminal")
    reset = user.add_parser("reset-2fa", help="remove a user's two-step sign-in (they lost their phone and "
                                              "recovery codes, and no admin can reset it)")
    reset.add_argument("username")

    db = commands.add_parser("db", help="database").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply the Alembic migrations")

    apikey = commands.add_parser("apikey", help="REST API keys").add_subparsers(dest="action", required=True)
    create_key = apikey.add_parser("create", help="make a key (printed once, stored hashed)")
    create_key.add_argument("name", help="what the key is for, e.g. 'shop backend'")
    create_key.add_argument("--site", default="*",
                            help="the one site whose customers the key sees (default *: every site)")
    create_key.add_argument("--scopes", default="read,write",
                            help="what the key may do, comma-separated from read, write, erase "
                                 "(default read,write: erasing people must be asked for)")
    revoke_key = apikey.add_parser("revoke", help="revoke a key by its id")
    revoke_key.add_argument("key_id")
    apikey.add_parser("list", help="list keys (never the keys themselves)")

    importer = commands.add_parser("import", help="import the site's customers, orders or products (CSV)")
    importer.add_argument("kind", choices=("customers", "orders", "products"))
    importer.add_argument("file", help="CSV with a header row (see docs/api.md)")

    backup = commands.add_parser("backup", help="copy the database and var/ files into a new folder under DIR")
    backup.add_argument("dir", type=Path)
    backup.add_argument("--with-secret", action="store_true",
                        help="put the secret key in too (default: keep it in your secret store, apart)")
    restore = commands.add_parser("restore", help="put a backup back (stop every process first); "
                                                  "erasures made since are applied again")
    restore.add_argument("dir", type=Path)
    restore.add_argument("--replace", action="store_true", help="replace a database that holds data")

    analytics = commands.add_parser("analytics", help="customer value, attrition, associations")
    analytics_actions = analytics.add_subparsers(dest="action", required=True)
    analytics_actions.add_parser("run", help="compute and store a new version of the results")
    analytics_actions.add_parser("status", help="the last run and the results in use")

    args = parser.parse_args(argv)
    configure_logging(os.environ.get("OTODESK_LOG_FORMAT", "text"))
    overrides = {k: v for k, v in (("host", getattr(args, "host", None)),
                                   ("port", getattr(args, "port", None))) if v}
    settings = Settings.from_env(**overrides)

    if args.command == "serve":
        if args.workers > 1:
            return _serve_workers(settings, args.workers)
        return _serve(settings)
    if args.command == "demo":
        if not settings.identity_secret:  # so the demo shop's sign-in is trusted (desktop/demo/shop.py)
            from desktop.demo.seed import demo_identity_secret

            settings = dataclasses.replace(settings, identity_secret=demo_identity_secret(settings.var_dir))
        if not settings.voice_private_candidates:
            # A trial on one machine or a LAN: browsers there have private (or this host's own)
            # addresses. `otodesk serve` allows neither unless told (README, Voice).
            settings = dataclasses.replace(settings, voice_private_candidates=("*", "self"))
        logins = asyncio.run(_seed(settings))
        base = f"http://{settings.host}:{settings.port}"
        print(f"\notodesk demo\n  shop:        {base}/\n  agent desk:  {base}/desk\n"
              f"  supervisor:  {base}/supervisor\n  reports:     {base}/reports\n"
              f"  planner:     {base}/planner\n  admin:       {base}/admin\n"
              f"  health:      {base}/healthz\n\n  logins:")
        for username, password, role in logins:
            print(f"    {role:<11} {username:<8} password {password}")
        print(flush=True)
        return 0 if args.no_serve else _serve(settings)
    if args.command == "user" and args.action == "reset-2fa":
        return asyncio.run(_reset_second_factor(settings, args.username))
    if args.command == "user":
        password = args.password or getpass.getpass(f"password for {args.username}: ")
        if len(password) < 8:
            print("otodesk: the password must have at least 8 characters", file=sys.stderr)
            return 2
        return asyncio.run(_add_user(settings, args, password))
    if args.command in ("apikey", "import"):
        from desktop.cli.ccr import run

        return run(settings, args)
    if args.command in ("backup", "restore"):
        return _backup_or_restore(settings, args)
    if args.command == "analytics":
        from desktop.leader.analytics_job import main as analytics_main

        return asyncio.run(analytics_main(settings, args.action))
    if args.command == "db":
        from desktop.repository.migrate import upgrade_database
        upgrade_database(settings.effective_database_url)
        print(f"database at head: {_redacted(settings.effective_database_url)}")
        return 0
    return 2


def _backup_or_restore(settings: Settings, args) -> int:
    from desktop.cli.backup import BackupError, backup, print_report, restore

    try:
        if args.command == "backup":
            folder = asyncio.run(backup(settings, args.dir, with_secret=args.with_secret))
            print(f"backup written to {folder}")
        else:
            print_report(asyncio.run(restore(settings, args.dir, replace=args.replace)))
    except BackupError as error:
        print(f"otodesk: {error}", file=sys.stderr)
        return 2
    return 0


#: Seconds an idle HTTP/1.1 connection is kept open (longer than the proxy's upstream keep-alive).
KEEP_ALIVE_SECONDS = 75


def _uvicorn_options(settings: Settings) -> dict:
    # proxy_headers off: only Settings.trusted_proxies decides whose X-Forwarded-For counts
    # (uvicorn's default believes 127.0.0.1, letting any local client pick its address).
    from desktop.web.ws_protocol import IMPORT_PATH

    return dict(host=settings.host, port=settings.port, log_level="info", log_config=None, proxy_headers=False,
                ws=IMPORT_PATH,  # compressed frames, no zlib state kept between them
                ws_ping_interval=settings.heartbeat_interval, ws_ping_timeout=settings.heartbeat_interval,
                ws_max_size=settings.max_message_bytes * 2,
                # An idle keep-alive connection stays longer than a proxy keeps its own (nginx: 60 s):
                # uvicorn's 5 s let a client or nginx send on a connection being closed under it
                # ("Server disconnected without sending a response", seen on a loaded machine).
                timeout_keep_alive=KEEP_ALIVE_SECONDS,
                # Requests in flight at SIGTERM may finish; calls get the same time (app.py).
                timeout_graceful_shutdown=settings.drain_seconds)


def _serve(settings: Settings) -> int:
    import uvicorn

    from desktop.app import create_app

    uvicorn.run(create_app(settings), **_uvicorn_options(settings))
    return 0


def _serve_workers(settings: Settings, workers: int) -> int:
    """N processes on one port, each a whole otodesk (desktop/cli/workers.py); uvicorn's parent
    restarts one that dies and passes SIGTERM on, so each drains as a lone process does."""
    import uvicorn

    from desktop.repository.migrate import upgrade_database

    if not settings.redis_url:
        print(f"otodesk: --workers {workers} needs OTODESK_REDIS_URL: processes meet on Redis, "
              "without it each would route its own customers only", file=sys.stderr)
        return 2
    upgrade_database(settings.effective_database_url)  # once, before N processes would race to it
    os.environ["OTODESK_HOST"], os.environ["OTODESK_PORT"] = settings.host, str(settings.port)
    uvicorn.run("desktop.cli.workers:app", factory=True, workers=workers, **_uvicorn_options(settings))
    return 0


async def _seed(settings: Settings):
    import time

    from desktop.demo.seed import seed_demo
    from desktop.repository.migrate import upgrade_database_async
    from desktop.repository.repository import Repository

    await upgrade_database_async(settings.effective_database_url)
    async with Repository.open(settings.effective_database_url) as repo:
        return await seed_demo(repo, time.time(), time_zone=settings.time_zone, history=settings.demo_history)


async def _add_user(settings: Settings, args, password: str) -> int:
    from desktop.repository.errors import DuplicateUser
    from desktop.repository.migrate import upgrade_database_async
    from desktop.repository.repository import Repository

    await upgrade_database_async(settings.effective_database_url)
    async with Repository.open(settings.effective_database_url) as repo:
        try:
            await repo.add_agent(args.username, password, display_name=args.name or args.username,
                                 role=args.role, skills=[s.strip() for s in args.skills.split(",") if s.strip()])
        except DuplicateUser:
            print(f"otodesk: a user named {args.username!r} already exists", file=sys.stderr)
            return 1
    print(f"added {args.role} {args.username}")
    return 0


async def _reset_second_factor(settings: Settings, username: str) -> int:
    """As an admin's reset, audited as done from the command line (``cli``)."""
    from desktop.repository.repository import Repository

    async with Repository.open(settings.effective_database_url) as repo:
        agent = await repo.get_agent_by_username(username)
        if agent is None:
            print(f"otodesk: no user named {username!r}", file=sys.stderr)
            return 1
        if not await repo.remove_second_factor(agent.id, actor="cli", action="user.second_factor_reset"):
            print(f"otodesk: {username} has no two-step sign-in to reset", file=sys.stderr)
            return 1
    print(f"two-step sign-in of {username} reset: they sign in with their password")
    return 0


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


if __name__ == "__main__":
    sys.exit(main())
