"""Two otodesk processes over a Redis of their own, for voice tests that span processes.

Call :func:`two_processes` inside :func:`tests.helpers.netns.network_namespace`:
a redis-server on ``SERVER_ADDRESS:redis_port`` and processes ``a`` (seeded
with the demo) and ``b`` sharing one SQLite file, each with ``base_url`` set.
Everything is stopped afterwards, even on failure.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.server import ServerProcess
from tests.helpers.netns import SERVER_ADDRESS, VOICE_ENV

__all__ = ["two_processes"]


@contextlib.contextmanager
def two_processes(tmp: Path, *, redis_port: int,
                  env: dict[str, str] | None = None) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    redis = subprocess.Popen([redis_server, "--bind", SERVER_ADDRESS, "--port", str(redis_port), "--save", "",
                              "--appendonly", "no", "--protected-mode", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    servers = []
    try:
        common = {"OTODESK_HOST": SERVER_ADDRESS, "OTODESK_REDIS_URL": f"redis://{SERVER_ADDRESS}:{redis_port}/0",
                  "OTODESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'shared.db'}",
                  "OTODESK_SECRET_KEY": secrets.token_urlsafe(16), "OTODESK_LEADER_LEASE": "3", **VOICE_ENV,
                  **(env or {})}
        for name, seed in (("a", True), ("b", False)):
            server = ServerProcess(tmp / name, env={**common, "OTODESK_PROCESS_ID": name}, seed=seed, log_name=name)
            server.base_url = f"http://{SERVER_ADDRESS}:{server.port}"
            servers.append(server.start())
        a, b = servers
        yield a, b
    finally:
        for server in servers:
            server.stop()
        redis.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            redis.wait(5)
        if redis.poll() is None:
            redis.kill()
