"""Phone calls: CPU per call and added one-way latency through a real server, against sipp load.

    sudo .venv/bin/python -m bench.phone [--calls 10,20,40] [--seconds 5] [--profile DIR] [--nice -10]
    .venv/bin/python -m bench.phone --kernel-only [--calls 40] [--seconds 5]

Runs inside a network namespace of its own (aioice never uses 127.0.0.1;
needs root). For each count N of ``--calls``, one ``otodesk serve`` (SQLite,
memory bus, a SIP trunk on the namespace's 127.0.0.1, recording every call:
``OTODESK_VOICE_RECORDING=*``) carries, in two phases:

1. **phone**: N inbound calls from Debian's ``sipp`` (an INVITE with a G.711
   offer, then a pcap of a 440 Hz tone as RTP, 50 packets/s), each answered,
   queued and taken by one of N agents (a process of bots: each agent's
   socket accepts the offer and joins the call with an aiortc peer sending
   pre-encoded Opus; calls come 2 a second): every call crosses the boundary (signaling/media/phone.py:
   G.711 RTP <-> 8 kHz PCM <-> Opus for the agent's WebRTC leg (libopus at
   8 kHz mono), the recorder);
2. **browser**: N browser-only calls on the same server (a customer bot and
   an agent bot each, the anchor forwarding Opus untouched, recorded too).

The server's CPU time (``/proc``) over ``--seconds`` of steady audio, after a
2 s warm-up, gives its CPU per call-second and calls per core. One more call
per phase carries probes: 20 ms tone bursts every 500 ms, each way (the phone
side is the stack's own UAC in this process, the agent an aiortc bot that
decodes). A burst's onset where it is received (to the sample) minus when it
was sent is the one-way latency, timed as the packets arrive (each probe
receiver decodes on arrival, no jitter buffer: aiortc's holds 4 frames, aiortp's
one); **added latency** is the phone path's minus the browser path's median in
the same direction, measured the same way on the same server in the same run.
What the phone path holds that the browser path has not: the G.711 decode,
the Opus encoder's look-ahead (the browser path's sender encodes too: it
cancels out), towards the phone the Opus decode and G.711 encode (frames go
out as they are decoded, signaling/media/phone.py).

Also printed: the transcoding kernel alone (``OpusToPcm`` / aiortp's PCMU /
``PcmToOpus`` in a loop, one process), the CPU that sipp, the bots and other
processes took meanwhile, and the agents' received packets (of 50/s per call).
``--profile DIR`` runs py-spy (``--nonblocking``; a bench-only tool: ``.venv/bin/pip
install py-spy``) on the server during the largest N's phone window.

Prints a table, then the last line: one JSON object, units in the keys.
Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from aiortp import get_codec

from bench.common import ROOT, cpu_seconds
from signaling.media.tones import encode_tone
from signaling.media.transcode import OpusToPcm, PcmToOpus
from tests.helpers.sip_peer import tone_frames

LINE_LOAD, LINE_PROBE = "+442079460500", "+442079460501"  # what sipp and the probe phone dial
LOAD_QUEUE, WEB_QUEUE, PROBE_QUEUE = "bench", "web", "probe"
PASSWORD = "bench-password"
LOUD = 2000           # a sample above this (of 32767) is a burst; the tones are at ~8,000-9,800
PERIOD = 0.5          # seconds between bursts, each way
SETUP_TIMEOUT = 90.0  # seconds for N calls to be up
SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="otodesk bench caller: INVITE, 200, pcap audio until our BYE">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=sipp 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=ptime:20
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <nop><action><exec play_pcap_audio="@TONE@"/></action></nop>
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"""


T0 = time.monotonic()


def log(text: str) -> None:
    print(f"  [{time.monotonic() - T0:6.1f} s] {text}", file=sys.stderr, flush=True)


# -- the transcoding kernel alone (the bench's first version) -------------------------------

def kernel_cpu_per_call_second(calls: int, seconds: float) -> float:
    """CPU seconds per call-second of the boundary's codec work alone, both directions."""
    opus_in = encode_tone(880, seconds=1.0)
    pcm_in = tone_frames(440)
    pcmu = get_codec(0)
    legs = [(OpusToPcm(), PcmToOpus()) for _ in range(calls)]
    frames = int(seconds * 50)
    started = time.process_time()
    for i in range(frames):
        for to_phone, from_phone in legs:
            for pcm in to_phone.decode(opus_in[i % len(opus_in)]):
                pcmu.encode(pcm)                               # towards the trunk
            from_phone.encode(pcmu.decode(pcmu.encode(pcm_in[i % len(pcm_in)])))  # from the trunk
    return (time.process_time() - started) / (calls * seconds)


# -- onsets ------------------------------------------------------------------------------------

class Onsets:
    """Latencies (ms) of bursts: ``sent`` times, received frames searched for the first loud sample."""

    def __init__(self):
        self.sent: list[float] = []
        self.latencies: list[float] = []
        self.frames = self.loud = 0
        self._quiet = True

    def frame(self, samples: np.ndarray, at: float, rate: int) -> None:
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > LOUD)
        self.frames += 1
        self.loud += bool(len(loud))
        if len(loud) and self._quiet:
            onset = at + loud[0] / rate  # the frame arrived whole at ``at``; its sample i plays i/rate later
            sent = [t for t in self.sent if 0 < onset - t < PERIOD * 0.8]
            if sent:
                self.latencies.append((onset - sent[-1]) * 1000)
        self._quiet = not len(loud)


class ProbePhone:
    """The probe's phone: the stack's own UAC dialling the server, silence with a 20 ms burst every
    ``PERIOD`` (sent times in ``to_agent.sent``), bursts heard timed in ``from_agent``."""

    def __init__(self, host: str = "127.0.0.1"):
        from tests.helpers.sip_caller import free_udp_port
        self.host, self.port = host, free_udp_port(host)
        self.to_agent, self.from_agent = Onsets(), Onsets()
        self.trunk = self.call = None
        self.connected = asyncio.Event()
        self.burst = tone_frames(1000)[0]
        self._talk: asyncio.Task | None = None

    async def dial(self, port: int, number: str, from_number: str = "+447700900999") -> None:
        from signaling.media.sip import PhoneState, TrunkConfig, open_trunk

        def event(call, e):
            if e.state == PhoneState.CONNECTED and not self.connected.is_set():
                self.connected.set()
                self._talk = asyncio.get_running_loop().create_task(self._run(call))
        self.trunk = open_trunk(TrunkConfig(uri=f"sip:{self.host}:{port}", caller_id=from_number,
                                            local_host=self.host, local_port=self.port, register_expires=0),
                                rtp_ports=(50000, 55000))
        await self.trunk.start()
        self.call = await self.trunk.dial(number, ring_timeout=30, on_event=event)

    async def _run(self, call) -> None:
        loop = asyncio.get_running_loop()
        silence = bytes(len(self.burst))
        while call.rtp is None:
            await asyncio.sleep(0.01)
        listen_rtp(call, self.from_agent)
        start, i = loop.time(), 0
        every = round(PERIOD / 0.02)
        while True:
            if self.bursting and i % every == 0:
                self.to_agent.sent.append(time.time())
                call.send_audio(self.burst)
            else:
                call.send_audio(silence)
            i += 1
            await asyncio.sleep(max(0.0, start + i * 0.02 - loop.time()))

    bursting = False

    async def close(self) -> None:
        if self._talk is not None:
            self._talk.cancel()
        if self.trunk is not None:
            with contextlib.suppress(Exception):
                await self.call.hangup()
            await self.trunk.aclose()


async def agent_bursts(bot, onsets: Onsets, offset: float) -> None:
    """``bot``'s microphone (silent) bursts every PERIOD, ``offset`` s after the phone's; each burst's
    start is the time its first frame was made (the microphone's ``marks``, read as ``onsets.sent``)."""
    onsets.sent = bot.mic.marks
    await asyncio.sleep(offset)
    while True:
        bot.mic.silent = False
        bot.mic.mark()
        await asyncio.sleep(0.021)
        bot.mic.silent = True
        await asyncio.sleep(PERIOD - 0.021)


def listen(bot, onsets: Onsets) -> None:
    """Time the bursts ``bot`` receives as its packets arrive: its first receiver tapped (no jitter
    buffer: aiortc's holds 4 frames, a browser's adapts), each Opus packet decoded at once."""
    import av

    from signaling.media.tap import tap_receiver
    decoder = av.CodecContext.create("libopus", "r")
    decoder.sample_rate, decoder.layout = 48000, "stereo"
    mono = av.AudioResampler(format="s16", layout="mono", rate=48000)  # no rate change: no delay

    def packet(p) -> None:
        at = time.time()
        for frame in decoder.decode(av.Packet(p.payload)):
            for out in mono.resample(frame):
                onsets.frame(out.to_ndarray().reshape(-1), at, 48000)
    tap_receiver(bot.pc.getTransceivers()[0].receiver, packet)


def listen_rtp(call, onsets: Onsets) -> None:
    """Time the bursts the probe phone receives as its RTP packets arrive (before aiortp's jitter
    buffer, which hands a frame on when the next one comes), G.711 decoded at once."""
    transport = call.rtp._rtp_transport
    received, pcmu = transport._on_rtp, get_codec(0)

    def packet(data: bytes, addr) -> None:
        if len(data) > 12 and data[1] & 0x7F == 0:
            start = 12 + 4 * (data[0] & 0x0F)
            onsets.frame(np.frombuffer(pcmu.decode(data[start:]), dtype=np.int16), time.time(), 8000)
        received(data, addr)
    transport._on_rtp = packet


# -- the load: N agents (and N customers) in a process of their own ---------------------------

async def load_worker(args) -> None:
    """Prints ``ready`` once the agents are available, ``connected K N`` once the calls' legs are up;
    counts packets between stdin's ``count`` and ``stop``, prints a JSON result, hangs up, prints ``done``."""
    from bench.voice import LightBot
    from desktop.auth.tokens import SESSION_COOKIE, Signer
    from signaling.client import AgentBot, CustomerBot

    accounts = json.loads(Path(args.accounts).read_text())
    signer = Signer(args.secret)
    phone = args.load == "phone"
    agent_packets, customer_packets = encode_tone(880), encode_tone(440)
    bots: list[LightBot] = []
    tasks = []

    async def agent(account) -> AgentBot:
        agent_id, _username, session_id = account
        bot = AgentBot(args.base_url, headers={"Cookie": f"{SESSION_COOKIE}={signer.session_token(agent_id, session_id)}"})
        await bot.connect()
        await bot.command("set_state", state="available", timeout=30)
        return bot

    async def join(client, callback_id: str, packets) -> None:
        bot = LightBot(packets)
        bots.append(bot)
        await bot.connect(lambda sdp: _voice_offer(client, callback_id, sdp))

    async def take(bot: AgentBot) -> None:
        offer = (await bot.wait_for("offer", timeout=SETUP_TIMEOUT))["offer"]
        await bot.command("accept", offer_id=offer["offer_id"], timeout=30)
        bot.callback_id = offer["callback_id"]
        await join(bot, offer["callback_id"], agent_packets)

    async def customer(i: int) -> None:
        bot = await CustomerBot.start(args.base_url)
        customers.append(bot)
        mark = bot.mark()
        callback_id = (await bot.command("call_me", name=f"Bench {i}", queue=WEB_QUEUE, channel="browser",
                                         timeout=30))["callback_id"]
        await bot.wait_for("callback_status", lambda m: m["callback"]["state"] == "connected", start=mark,
                           timeout=SETUP_TIMEOUT)
        await join(bot, callback_id, customer_packets)

    customers: list = []
    agents = await asyncio.gather(*(agent(a) for a in accounts["phone" if phone else "web"][:args.calls]))
    tasks = [asyncio.create_task(take(bot)) for bot in agents]
    print("ready", flush=True)
    if not phone:
        for i in range(args.calls):  # one at a time, as callers come
            await customer(i)
    legs = args.calls * 2 if not phone else args.calls
    deadline = time.monotonic() + SETUP_TIMEOUT
    while time.monotonic() < deadline and (len(bots) < legs or any(b.pc.connectionState != "connected" for b in bots)):
        await asyncio.sleep(0.1)
    print(f"connected {sum(b.pc.connectionState == 'connected' for b in bots)} {legs}", flush=True)
    loop = asyncio.get_running_loop()
    assert (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "count"
    started = time.monotonic()
    for bot in bots:
        bot.counting = True
    assert (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "stop"
    wall = time.monotonic() - started
    print(json.dumps({"received": sum(b.received for b in bots), "expected": len(bots) * wall * 50,
                      "concealed_frames": sum(b.concealed_frames() for b in bots)}), flush=True)
    for task in tasks:
        task.cancel()

    async def hang_up(bot) -> None:
        with contextlib.suppress(Exception):
            await bot.command("voice_control", callback_id=bot.callback_id, action="hangup", timeout=5)

    async def close(client) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(), 5)
    await asyncio.gather(*(hang_up(bot) for bot in agents if hasattr(bot, "callback_id")))
    await asyncio.gather(*(close(client) for client in [*bots, *agents, *customers]))
    print("done", flush=True)


async def _voice_offer(client, callback_id: str, sdp: str) -> str:
    return (await client.command("voice_offer", callback_id=callback_id, sdp=sdp, timeout=30))["sdp"]


# -- one run -------------------------------------------------------------------------------------

async def seed(url: str, calls: int) -> dict[str, list]:
    """Queues bench, web and probe; ``calls`` agents for each of the first two, two probe agents."""
    from argon2 import PasswordHasher

    from desktop.repository.repository import Repository
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    accounts: dict[str, list] = {}
    async with Repository.open(url, upgrade=True, password_hasher=cheap) as repo:
        for queue in (LOAD_QUEUE, WEB_QUEUE, PROBE_QUEUE):
            await repo.upsert_queue(queue, title=queue.title(), skills=[queue], service_level_target=20)
        for kind, queue, count in (("phone", LOAD_QUEUE, calls), ("web", WEB_QUEUE, calls), ("probe", PROBE_QUEUE, 2)):
            for i in range(count):
                record = await repo.add_agent(f"{kind}{i:04d}", PASSWORD, display_name=f"Bench {kind} {i}",
                                              role="agent", skills=[queue])
                session_id = secrets.token_urlsafe(16)
                await repo.open_staff_session(session_id, record.id, now=time.time(), max_age=24 * 3600)
                accounts.setdefault(kind, []).append((record.id, record.username, session_id))
    return accounts


class Run:
    """One server for one N: the phone phase, then the browser phase."""

    def __init__(self, n: int, args, work: Path, template: Path, accounts: dict):
        from tests.helpers.netns import SERVER_ADDRESS, VOICE_ENV
        from tests.helpers.server import ServerProcess
        from tests.helpers.sip_caller import free_udp_port
        self.n, self.args, self.work, self.accounts = n, args, work, accounts
        self.secret = secrets.token_hex(16)
        var = work / f"n{n}"
        var.mkdir()
        shutil.copy(template, var / "otodesk.db")
        self.sipp_port, self.sip_port = free_udp_port(), free_udp_port()
        self.server = ServerProcess(var, seed=False, log_dir=work, env={
            "OTODESK_HOST": SERVER_ADDRESS, **VOICE_ENV, "OTODESK_SECRET_KEY": self.secret,
            "OTODESK_VOICE_RECORDING": "*", "OTODESK_VOICE_MAX_CALLS": "1000", "OTODESK_SIP_MAX_CALLS": "0",
            "OTODESK_NEW_VISITORS_PER_MINUTE": "100000", "OTODESK_DEFAULT_REGION": "GB",
            "OTODESK_SIP_URI": f"sip:127.0.0.1:{self.sipp_port}", "OTODESK_SIP_LOCAL_HOST": "127.0.0.1",
            "OTODESK_SIP_LOCAL_PORT": str(self.sip_port), "OTODESK_SIP_REGISTER_EXPIRES": "0",
            "OTODESK_SIP_INBOUND": f"{LINE_LOAD}={LOAD_QUEUE},{LINE_PROBE}={PROBE_QUEUE}",
            "OTODESK_OFFER_TIMEOUT": "120"})
        self.server.base_url = f"http://{SERVER_ADDRESS}:{self.server.port}"
        (work / "accounts.json").write_text(json.dumps(accounts))

    def worker(self, mode: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.phone", "--load", mode, "--calls", str(self.n), "--base-url",
             self.server.base_url, "--secret", self.secret, "--accounts", str(self.work / "accounts.json")],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.args.nice:
            os.setpriority(os.PRIO_PROCESS, process.pid, self.args.nice)
        return process

    def sipp(self) -> subprocess.Popen:
        from tests.helpers.pcap import write_tone_pcap
        from tests.helpers.sip_caller import free_udp_port
        tone = write_tone_pcap(self.work / "tone.pcap", 440, seconds=SETUP_TIMEOUT + 60)
        scenario = self.work / "call_in.xml"
        scenario.write_text(SCENARIO.replace("@TONE@", str(tone)))
        numbers = self.work / "callers.csv"
        numbers.write_text("SEQUENTIAL\n" + "".join(f"+447700900{i:03d};\n" for i in range(self.n)))
        return subprocess.Popen(
            ["sipp", f"127.0.0.1:{self.sip_port}", "-sf", str(scenario), "-inf", str(numbers), "-s", LINE_LOAD,
             "-i", "127.0.0.1", "-p", str(self.sipp_port), "-mi", "127.0.0.1", "-mp", str(free_udp_port()),
             "-m", str(self.n), "-l", str(self.n), "-r", "2", "-nostdin", "-timeout", f"{SETUP_TIMEOUT + 120:.0f}s",
             "-trace_err", "-error_file", str(self.work / f"sipp-errors-{self.n}.log")],
            cwd=self.work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def phase(self, mode: str) -> dict:
        """N calls of ``mode`` (phone, browser) and the probe call; the figures of the window."""
        from bench.voice import machine_busy_seconds
        from desktop.auth.tokens import SESSION_COOKIE, Signer
        from signaling.client import AgentBot, CustomerBot
        from tests.helpers.voice_bots import Bot
        loop = asyncio.get_running_loop()
        worker = self.worker(mode)
        sipp = None
        probe_agent = probe_phone = customer = None
        bots: list = []
        tasks: list[asyncio.Task] = []
        try:
            line = await loop.run_in_executor(None, worker.stdout.readline)
            assert line.strip() == "ready", line
            log(f"{mode}: {self.n} agents available")
            if mode == "phone":
                sipp = self.sipp()
            agent_id, _, session_id = self.accounts["probe"][0 if mode == "phone" else 1]
            cookie = f"{SESSION_COOKIE}={Signer(self.secret).session_token(agent_id, session_id)}"
            probe_agent = AgentBot(self.server.base_url, headers={"Cookie": cookie})
            await probe_agent.connect()
            await probe_agent.command("set_state", state="available")
            mark = probe_agent.mark()
            if mode == "phone":
                probe_phone = ProbePhone()
                await probe_phone.dial(self.sip_port, LINE_PROBE)
            else:
                customer = await CustomerBot.start(self.server.base_url)
                callback = await customer.command("call_me", name="Probe", queue=PROBE_QUEUE, channel="browser")
            offer = (await probe_agent.wait_for("offer", start=mark, timeout=SETUP_TIMEOUT))["offer"]
            await probe_agent.command("accept", offer_id=offer["offer_id"])
            agent_bot = Bot(300)
            agent_bot.mic.silent = True
            bots.append(agent_bot)
            listen(agent_bot, to_agent := probe_phone.to_agent if probe_phone else Onsets())
            await agent_bot.connect(lambda sdp: _voice_offer(probe_agent, offer["callback_id"], sdp))
            if mode == "phone":
                from_agent = probe_phone.from_agent
            else:
                customer_bot = Bot(1000)
                customer_bot.mic.silent = True
                bots.append(customer_bot)
                listen(customer_bot, from_agent := Onsets())
                await customer_bot.connect(lambda sdp: _voice_offer(customer, callback["callback_id"], sdp))
            for bot in bots:
                await bot.connected(timeout=SETUP_TIMEOUT)
            log(f"{mode}: the probe call is up")
            _, connected, legs = (await loop.run_in_executor(None, worker.stdout.readline)).split()
            log(f"{mode}: {connected} of {legs} legs up")
            if mode == "phone":
                probe_phone.bursting = True
            else:
                tasks.append(asyncio.create_task(agent_bursts(customer_bot, to_agent, 0.0)))
            tasks.append(asyncio.create_task(agent_bursts(agent_bot, from_agent, PERIOD / 2)))
            await asyncio.sleep(2.0)  # warm-up
            to_agent.latencies.clear()
            from_agent.latencies.clear()
            worker.stdin.write("count\n")
            worker.stdin.flush()
            pid = self.server.process.pid
            ours = [os.getpid(), worker.pid] + ([sipp.pid] if sipp else [])
            cpu0, mine0, busy0, wall0 = cpu_seconds(pid), [cpu_seconds(p) for p in ours], machine_busy_seconds()[0], \
                time.monotonic()
            profiler = None
            if self.args.profile and mode == "phone" and self.n == max(self.args.calls_list):
                profiler = subprocess.Popen(
                    # --nonblocking: sampling without it pauses the server at each sample (its
                    # latencies and CPU were the profiler's).
                    [self.args.py_spy, "record", "--nonblocking", "--pid", str(pid), "--rate", "200", "--format", "raw",
                     "--duration", f"{self.args.seconds:.0f}", "--output",
                     str(Path(self.args.profile) / f"phone-{self.n}.txt")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await asyncio.sleep(self.args.seconds)
            cpu, wall = cpu_seconds(pid) - cpu0, time.monotonic() - wall0
            mine = [cpu_seconds(p) - m for p, m in zip(ours, mine0)]
            others = max(0.0, machine_busy_seconds()[0] - busy0 - sum(mine) - cpu)
            worker.stdin.write("stop\n")
            worker.stdin.flush()
            load = json.loads(await loop.run_in_executor(None, worker.stdout.readline))
            log(f"{mode}: probe frames to the agent {to_agent.frames} ({to_agent.loud} loud, {len(to_agent.sent)} sent), "
                f"from the agent {from_agent.frames} ({from_agent.loud} loud, {len(from_agent.sent)} sent)")
            if profiler is not None:
                try:
                    profiler.wait(30)
                except subprocess.TimeoutExpired:  # py-spy stuck on a saturated process: no profile
                    profiler.kill()
                    log("py-spy did not finish: no profile")
            calls = self.n + 1
            return {"mode": mode, "calls": calls, "legs_connected": int(connected), "legs": int(legs),
                    "core_share": cpu / wall, "cpu_ms_per_call_second": cpu / wall / calls * 1000,
                    "calls_per_core": calls / (cpu / wall), "bench_core_share": mine[0] / wall,
                    "bots_core_share": mine[1] / wall, "sipp_core_share": mine[2] / wall if sipp else 0.0,
                    "others_core_share": others / wall,
                    "packets_delivered_percent": 100 * load["received"] / max(1, load["expected"]),
                    "to_agent_ms": list(to_agent.latencies), "from_agent_ms": list(from_agent.latencies)}
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(loop.run_in_executor(None, worker.stdout.readline), 15)  # "done"
            for bot in bots:
                await bot.close()
            if probe_phone is not None:
                await probe_phone.close()
            for client in (probe_agent, customer):
                if client is not None:
                    await client.close()
            for child in (worker, sipp):
                if child is None:
                    continue
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(5)
                if child.poll() is None:
                    child.kill()
                    child.wait()

    async def run(self) -> dict[str, dict]:
        await asyncio.get_running_loop().run_in_executor(None, self.server.start)
        log(f"server up (N = {self.n})")
        try:
            if self.args.nice:
                os.setpriority(os.PRIO_PROCESS, self.server.process.pid, self.args.nice)
            return {mode: await self.phase(mode) for mode in self.args.paths.split(",")}
        finally:
            self.server.stop()


def pick(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def added(phone: list[float], browser: list[float]) -> list[float]:
    base = statistics.median(browser) if browser else 0.0
    return [x - base for x in phone]


def _r(value, digits=1):
    return None if value is None else round(value, digits)


async def main(args) -> None:
    work = Path(tempfile.mkdtemp(prefix="otodesk-bench-phone-"))
    keep = False
    try:
        template = work / "template.db"
        accounts = await seed(f"sqlite+aiosqlite:///{template}", max(args.calls_list))
        rows = []
        for n in args.calls_list:
            log(f"N = {n}: phone calls from sipp, then browser-only calls, {args.seconds:g} s each...")
            rows.append((n, await Run(n, args, work, template, accounts).run()))
    except BaseException:
        keep = True
        print(f"failed; logs kept in {work}", file=sys.stderr)
        raise
    finally:
        if args.keep:
            print(f"logs kept in {work}", file=sys.stderr)
        elif not keep:
            shutil.rmtree(work, ignore_errors=True)
    log("kernel...")
    kernel = kernel_cpu_per_call_second(20, 2.0)
    log("kernel done")
    print(f"\nload average before/after: {args.load_before} / {tuple(round(x, 2) for x in os.getloadavg())}")
    print(f"{'N':>3} {'path':8} {'legs up':>8} {'server %':>8} {'ms CPU/call·s':>13} {'calls/core':>10} "
          f"{'recv %':>6} {'to agent p50/p95':>17} {'from agent p50/p95':>19} {'sipp %':>6} {'bots %':>6} {'others %':>8}")
    summary: dict = {"bench": "phone", "seconds_measured": args.seconds, "recording": True,
                     "load_average_1min_before": round(args.load_before[0], 2),
                     "kernel_cpu_ms_per_call_second": round(kernel * 1000, 2),
                     "kernel_calls_per_core": round(1 / kernel)}
    for n, phases in rows:
        for mode, r in phases.items():
            ta, fa = r["to_agent_ms"], r["from_agent_ms"]
            print(f"{n:3d} {mode:8} {r['legs_connected']:4d}/{r['legs']:<3d} {r['core_share'] * 100:8.1f} "
                  f"{r['cpu_ms_per_call_second']:13.2f} {r['calls_per_core']:10.0f} {r['packets_delivered_percent']:6.1f} "
                  f"{_fmt(pick(ta, .5))}/{_fmt(pick(ta, .95)):>7} {_fmt(pick(fa, .5)):>10}/{_fmt(pick(fa, .95)):>7} "
                  f"{r['sipp_core_share'] * 100:6.1f} {r['bots_core_share'] * 100:6.1f} {r['others_core_share'] * 100:8.1f}")
            key = f"n{n}_{mode}"
            summary[f"{key}_calls"] = r["calls"]
            summary[f"{key}_legs_connected_count"] = r["legs_connected"]
            summary[f"{key}_cpu_ms_per_call_second"] = round(r["cpu_ms_per_call_second"], 2)
            summary[f"{key}_calls_per_core"] = round(r["calls_per_core"], 1)
            summary[f"{key}_packets_delivered_percent"] = round(r["packets_delivered_percent"], 1)
            summary[f"{key}_one_way_to_agent_p50_ms"] = _r(pick(ta, .5))
            summary[f"{key}_one_way_from_agent_p50_ms"] = _r(pick(fa, .5))
            summary[f"{key}_other_processes_core_percent"] = round(r["others_core_share"] * 100, 1)
        if set(phases) != {"phone", "browser"}:
            continue
        phone, browser = phases["phone"], phases["browser"]
        up = added(phone["to_agent_ms"], browser["to_agent_ms"])
        down = added(phone["from_agent_ms"], browser["from_agent_ms"])
        both = up + down
        print(f"    added by the phone boundary at N={n}: phone -> agent p50 {_fmt(pick(up, .5))} / p95 {_fmt(pick(up, .95))} ms; "
              f"agent -> phone p50 {_fmt(pick(down, .5))} / p95 {_fmt(pick(down, .95))} ms; "
              f"both p95 {_fmt(pick(both, .95))} ms ({len(both)} bursts); "
              f"CPU per call x{phone['cpu_ms_per_call_second'] / browser['cpu_ms_per_call_second']:.1f} of browser-only")
        summary[f"n{n}_added_latency_to_agent_p50_ms"] = _r(pick(up, .5))
        summary[f"n{n}_added_latency_to_agent_p95_ms"] = _r(pick(up, .95))
        summary[f"n{n}_added_latency_from_agent_p50_ms"] = _r(pick(down, .5))
        summary[f"n{n}_added_latency_from_agent_p95_ms"] = _r(pick(down, .95))
        summary[f"n{n}_added_latency_p50_ms"] = _r(pick(both, .5))
        summary[f"n{n}_added_latency_p95_ms"] = _r(pick(both, .95))
    n, phases = rows[-1]
    if "phone" in phases:
        summary["calls_per_core"] = round(phases["phone"]["calls_per_core"], 1)
        summary["cpu_ms_per_call_second"] = round(phases["phone"]["cpu_ms_per_call_second"], 2)
    if "browser" in phases:
        summary["browser_only_calls_per_core"] = round(phases["browser"]["calls_per_core"], 1)
    summary["added_latency_p50_ms"] = summary.get(f"n{n}_added_latency_p50_ms")
    summary["added_latency_p95_ms"] = summary.get(f"n{n}_added_latency_p95_ms")
    print(f"transcoding kernel alone: {kernel * 1000:.2f} ms CPU per call-second -> {1 / kernel:.0f} calls per core")
    print(json.dumps(summary))


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.1f}"


def kernel_only(args) -> None:
    per = kernel_cpu_per_call_second(max(args.calls_list), args.seconds)
    print(f"transcoding at the phone boundary: {per * 1000:.2f} ms CPU per call-second "
          f"-> {1 / per:.0f} calls per core (transcoding only)")
    print(json.dumps({"bench": "phone", "kernel_only": True, "calls": max(args.calls_list), "seconds": args.seconds,
                      "kernel_cpu_ms_per_call_second": round(per * 1000, 2), "kernel_calls_per_core": round(1 / per)}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", default="10,20,40", help="concurrent calls, one run each (comma-separated)")
    parser.add_argument("--seconds", type=float, default=5.0, help="steady audio measured per phase")
    parser.add_argument("--profile", metavar="DIR", help="py-spy raw stacks of the server, largest N's phone window")
    parser.add_argument("--nice", type=int, default=0, help="run the server and the bots at this priority")
    parser.add_argument("--paths", default="phone,browser", help=argparse.SUPPRESS)  # one of them, to debug
    parser.add_argument("--keep", action="store_true", help="keep the servers' logs and the sipp files")
    parser.add_argument("--kernel-only", action="store_true", help="only the transcoding kernel (no root, no server)")
    parser.add_argument("--load", help=argparse.SUPPRESS)  # the bots' process: phone or browser
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--secret", help=argparse.SUPPRESS)
    parser.add_argument("--accounts", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.calls_list = [int(x) for x in str(args.calls).split(",")]
    args.calls = args.calls_list[0] if args.load else args.calls
    if args.load:
        asyncio.run(load_worker(args))
    elif args.kernel_only:
        kernel_only(args)
    else:
        if os.geteuid() != 0:
            sys.exit("bench.phone needs root: it runs in a network namespace of its own (or --kernel-only)")
        if shutil.which("sipp") is None:
            sys.exit("bench.phone needs sipp (apt-get install sip-tester)")
        args.py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        args.load_before = os.getloadavg()
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
        from tests.helpers.netns import network_namespace
        with network_namespace():
            asyncio.run(main(args))
