"""Debian's sipp for one call, on 127.0.0.1 only: as the far end of our trunk (it waits for our
INVITE) or as a caller (``calls``: it sends one to that address). A scenario in tests/sipp names
what it needs as ``@KEY@``; :meth:`Sipp.finished` asserts sipp ran it to its end (exit 0), with
its error file in the message."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from tests.helpers.sip_caller import free_udp_port

SCENARIOS = Path(__file__).parent.parent / "sipp"


def require_sipp() -> None:
    if shutil.which("sipp") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("sipp is not installed (apt-get install sip-tester); CI=true: it must run")
        pytest.skip("sipp is not installed (apt-get install sip-tester)")


class Sipp:
    """``async with Sipp("busy.xml", tmp_path) as far: ...; await far.finished()``; killed on exit
    if it is still running."""

    def __init__(self, scenario: str, tmp: Path, *, calls: str | None = None, number: str | None = None,
                 port: int | None = None, max_calls: int = 1, **substitutions: str):
        require_sipp()
        text = (SCENARIOS / scenario).read_text()
        for key, value in substitutions.items():
            text = text.replace(f"@{key}@", value)
        self.scenario = tmp / scenario
        self.scenario.write_text(text)
        self.calls, self.number = calls, number
        self.port = port or free_udp_port()
        self.max_calls = max_calls
        self.tmp = tmp
        self.errors = tmp / f"{self.scenario.stem}-errors.log"
        self.process: asyncio.subprocess.Process | None = None

    @property
    def uri(self) -> str:
        return f"sip:127.0.0.1:{self.port}"

    async def __aenter__(self) -> "Sipp":
        target = [self.calls] if self.calls else []
        service = ["-s", self.number] if self.number else []
        self.process = await asyncio.create_subprocess_exec(
            "sipp", *target, "-sf", str(self.scenario), *service, "-i", "127.0.0.1", "-p", str(self.port),
            "-mi", "127.0.0.1", "-mp", str(free_udp_port()), "-m", str(self.max_calls), "-nostdin", "-timeout", "20s",
            "-timeout_error", "-trace_err", "-error_file", str(self.errors),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, cwd=self.tmp)
        if not self.calls:
            await asyncio.sleep(0.3)  # bound and listening before we call it
        return self

    async def finished(self, timeout: float = 10.0) -> None:
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            raise
        assert self.process.returncode == 0, \
            f"sipp failed ({self.process.returncode}): {self.errors.read_text() if self.errors.exists() else ''}"

    async def __aexit__(self, *exc) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
