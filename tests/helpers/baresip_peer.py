"""Debian's baresip as the SIP trunk's far end: it answers every call, plays 440 Hz, records what it hears.

Configured in a directory of its own (``config`` and ``accounts``, nothing from
the home directory): SIP on ``host:port`` over UDP, G.711 only, no
registration; its one account, ``number``, is what a call must dial (baresip answers
``404`` to any other user), and its ``answermode=auto`` answers each INVITE at once;
the ``ausine`` module is the microphone (a sine of ``tone_hz``); the
``sndfile`` filter writes the decoded audio it receives to
``dump-<peer>-dec.wav`` in that directory (the player, ``aubridge``, just
discards it: there is no sound card). Its console output is kept, with the
time each line arrived, so a test can see when it closed the call;
:meth:`command` runs one of its commands (``hold``, ``resume``) through its
``ctrl_tcp`` module.

With ``certificate`` (a PEM file holding its certificate and key) it also
listens on TLS, on ``port + 1`` (baresip's rule): :attr:`BaresipPeer.uri` is then
``sips:``; ``mediaenc`` (``srtp-mand``: SDES-SRTP in RTP/SAVP, required;
``srtp``: best effort) loads its ``srtp`` module for its account.

Needs ``baresip`` (``make test`` installs it); skips otherwise (fails under ``CI=true``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import time
import wave
from pathlib import Path

import pytest

__all__ = ["BaresipPeer", "require_baresip"]

MODULES = "/usr/lib/baresip/modules"


def require_baresip() -> None:
    if shutil.which("baresip") and os.path.exists(f"{MODULES}/ausine.so"):
        return
    reason = "baresip is not installed (apt-get install baresip)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true: it must run")
    pytest.skip(reason)


def _config(host: str, port: int, tone_hz: int, directory: Path, control: int, certificate: Path | None = None,
            mediaenc: str = "") -> str:
    return "\n".join([
        "poll_method epoll",
        f"sip_listen {host}:{port}",
        *([f"sip_certificate {certificate}"] if certificate else []),
        "sip_trans_def udp",
        f"audio_source ausine,{tone_hz}",
        "audio_player aubridge,discard",
        "audio_alert aubridge,discard",
        "ausrc_srate 48000", "auplay_srate 8000", "ausrc_channels 2", "auplay_channels 1",
        "audio_level no",
        f"net_interface {host}",
        "rtp_tos 0", "rtp_stats no", "rtcp_mux no", "jitter_buffer_delay 1-5",
        f"module_path {MODULES}",
        *(["module srtp.so"] if mediaenc else []),
        "module g711.so", "module ausine.so", "module aubridge.so", "module sndfile.so",
        "module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
        f"ctrl_tcp_listen {host}:{control}",
        f"snd_path {directory}",
        "",
    ])


def _free_tcp_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class BaresipPeer:
    """``async with BaresipPeer(tmp, port=...) as far: ...``; ``far.recording()`` is what it heard."""

    def __init__(self, directory: Path, *, number: str, host: str = "127.0.0.1", port: int, tone_hz: int = 440,
                 certificate: Path | None = None, mediaenc: str = ""):
        require_baresip()
        self.directory = directory
        self.host, self.port = host, port
        self.lines: list[tuple[float, str]] = []  # (time.monotonic(), console line)
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self.control = _free_tcp_port(host)
        self.tls = certificate is not None
        (directory / "config").write_text(_config(host, port, tone_hz, directory, self.control, certificate, mediaenc))
        transport = ";transport=tls" if self.tls else ""
        encryption = f";mediaenc={mediaenc}" if mediaenc else ""
        (directory / "accounts").write_text(
            f"<sip:{number}@{host}:{port}{transport}>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA{encryption}\n")
        (directory / "contacts").write_text("")

    @property
    def uri(self) -> str:
        return f"sips:{self.host}:{self.port + 1}" if self.tls else f"sip:{self.host}:{self.port}"

    async def __aenter__(self) -> "BaresipPeer":
        self.process = await asyncio.create_subprocess_exec(
            "baresip", "-f", str(self.directory), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=self.directory)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        await self.until("baresip is ready", timeout=5)
        return self

    async def _read(self) -> None:
        while line := await self.process.stdout.readline():
            self.lines.append((time.monotonic(), line.decode(errors="replace").rstrip()))

    def saw(self, text: str, since: float = 0.0) -> float | None:
        """When a console line containing ``text`` arrived (after ``since``), or None."""
        return next((at for at, line in self.lines if at >= since and text in line), None)

    async def until(self, text: str, *, since: float = 0.0, timeout: float = 5.0) -> float:
        deadline = time.monotonic() + timeout
        while (at := self.saw(text, since)) is None:
            if time.monotonic() > deadline or self._reader.done():
                raise AssertionError(f"baresip never said {text!r}; it said:\n{self.console()}")
            await asyncio.sleep(0.05)
        return at

    async def command(self, command: str, params: str = "") -> dict:
        """Run one of baresip's commands (``hold``, ``resume``...) through ctrl_tcp; its JSON answer."""
        reader, writer = await asyncio.open_connection(self.host, self.control)
        try:
            body = json.dumps({"command": command, "params": params, "token": command}).encode()
            writer.write(b"%d:%s," % (len(body), body))  # a netstring
            await writer.drain()
            while True:
                length = int((await asyncio.wait_for(reader.readuntil(b":"), 5))[:-1])
                answer = json.loads((await reader.readexactly(length + 1))[:-1])
                if answer.get("response"):
                    assert answer.get("ok"), f"baresip refused {command!r}: {answer}"
                    return answer
        finally:
            writer.close()

    def console(self) -> str:
        return "\n".join(line for _, line in self.lines[-60:])

    def recording(self) -> bytes:
        """The audio baresip decoded from the call (s16 mono 8 kHz), from sndfile's dump."""
        dumps = sorted(self.directory.glob("dump-*-dec.wav"))
        if not dumps:
            raise AssertionError(f"sndfile wrote no recording in {self.directory}; baresip said:\n{self.console()}")
        with wave.open(str(dumps[-1])) as recorded:
            assert (recorded.getframerate(), recorded.getnchannels()) == (8000, 1), "baresip recorded another format"
            return recorded.readframes(recorded.getnframes())

    async def __aexit__(self, *exc) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()  # baresip stops its calls and quits on SIGTERM
            try:
                await asyncio.wait_for(self.process.wait(), 2)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._reader is not None:
            await self._reader
