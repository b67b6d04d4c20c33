"""Run real otodesk processes for tests: ``otodesk demo`` on a free port on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["CONSENT", "ServerProcess", "free_port", "running_server"]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: What a bot agrees to when it asks for a phone callback (the widget sends the sentence it shows).
CONSENT = "You agree that we call this number about this request, once or a few times if we can't reach you."


class ServerProcess:
    """One ``otodesk`` process; ``kill()`` is ``kill -9``."""

    def __init__(self, var_dir: Path, *, env: dict[str, str] | None = None, port: int | None = None,
                 seed: bool = True, log_name: str = "server", log_dir: Path | None = None,
                 args: tuple[str, ...] = ()):
        self.var_dir = var_dir
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "OTODESK_VAR_DIR": str(var_dir), "OTODESK_HOST": "127.0.0.1",
                    "OTODESK_PORT": str(self.port), "PYTHONUNBUFFERED": "1",
                    # The generated history (a year of orders, weeks of contacts) only where a test
                    # asks for it: the others count what they made themselves.
                    "OTODESK_DEMO_HISTORY": "0",
                    # Phones ring at any hour and in any country unless a test sets the rules of
                    # calling (test_calling_rules.py): a test must not fail on the time it runs.
                    "OTODESK_CALLING_HOURS": "*", "OTODESK_PHONE_COUNTRIES": "*", **(env or {})}
        self.seed = seed
        self.args = args
        self.log_path = (log_dir or var_dir) / f"{log_name}-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "ServerProcess":
        self.var_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "desktop.cli", "demo" if self.seed else "serve", *self.args]
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"otodesk exited with {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"otodesk did not start in {timeout} s:\n{self.log()}")

    @property
    def database_url(self) -> str:
        """The database it uses: ``OTODESK_DATABASE_URL``, else the SQLite file in its var dir."""
        return self.env.get("OTODESK_DATABASE_URL") or f"sqlite+aiosqlite:///{self.var_dir / 'otodesk.db'}"

    def health(self) -> dict:
        return httpx.get(f"{self.base_url}/healthz", timeout=2).json()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_log", None):
            self._log.close()


@contextlib.contextmanager
def running_server(var_dir: Path, **kwargs):
    server = ServerProcess(var_dir, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()
