"""Voice: calls per core and added one-way latency through the media anchor.

    sudo .venv/bin/python -m bench.voice [--calls 15] [--seconds 10] [--probes 2]
    sudo .venv/bin/python -m bench.voice --calls 48 --modes forward+record --soak 600 [--nice -10]

Runs inside a network namespace of its own (aioice never uses 127.0.0.1; needs
root). For each anchor the bench starts it in a process of its own and puts
``--calls`` concurrent calls through it, each two aiortc bots (customer and
agent) sending a pre-encoded Opus tone and counting what they receive
(undecoded, so the bots stay cheap). The anchor process's CPU time over
``--seconds`` gives its CPU per call. ``--probes`` more calls carry tone bursts
(20 ms of tone every 500 ms, silence between) that the receiving bot decodes:
the burst's onset at the receiver minus its start at the sender is the one-way
latency; the same bots connected directly to each other give the baseline that
is subtracted (the bots' own jitter buffers and codecs). Anchors compared:

- ``forward``:        otodesk's anchor, encoded Opus forwarded, no decoding
- ``forward+record``: the same, recording every call (packets logged; mixed after)
- ``naive``:          aiortc ``MediaRelay``: every leg decoded and re-encoded

Audio gaps: every load bot plays what it receives through a model of a
browser's jitter buffer holding ``PLAYOUT_MS`` (browsers keep 40–80 ms) and
counts the 20 ms frames it would conceal, as ``concealedSamples`` does: frames
that never came, and the time it waits for a late frame. Like WebRTC's NetEq,
the model then plays on from the late frame (its playout clock moves later by
the wait) and moves earlier again as soon as frames come earlier (NetEq does
that slowly, by time-compression: the model is the stricter). The
``fixed_clock`` figure is the earlier model, an ideal buffer that never
re-anchors: after a stall every frame of the catch-up burst counts as late,
so it counted about three times the adaptive model on a stall of the machine,
and a permanent shift would make every later frame count (it is kept to compare
with older runs). The mode ``direct`` (the same load, each pair of bots
connected to each other, no anchor) shows what the bots conceal by themselves
on this machine (a starved load generator is late too): compare against it.
Each run also reports the CPU that other processes took meanwhile: what
concealment was seen here came from other load starving the anchor and the bots
(see bench/README.md); ``--nice -10`` puts the bench's processes first on a machine
shared with other work.

``--soak SECONDS``: one anchor (the first of ``--modes``) carries the calls for
that long; its RSS is sampled every ``--rss-every`` seconds (30) and the slope
of a least-squares line through the samples is printed (MB per hour).

Prints a table, then the last line: one JSON object, units in the keys.
Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import gc
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from bench.common import cpu_seconds, rss_mb
from signaling.media.anchor import MediaAnchor
from signaling.media.forward import FRAME_SAMPLES, SAMPLE_RATE
from signaling.media.hearing import Role
from signaling.media.recorder import PacketRecorder
from signaling.media.tap import tap_receiver
from signaling.media.tones import encode_tone
from tests.helpers.voice_bots import Bot

ADDRESS = "10.213.0.1"
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
PLAYOUT_MS = 60  # the playout buffer the gap count assumes (a browser's jitter buffer: 40-80 ms)


# -- what a process is doing over time (soaks): GC pauses, event-loop lag, counters ------------

class Monitor:
    """Per window of ``every`` seconds, one JSON line on stderr: the longest GC pass (ms, by
    generation), the event loop's worst lag behind a 10 ms ticker, and ``counters`` deltas.

    Tells pauses (GC, a starved loop) from drift: a pause shows as a lag spike in the window
    where the audio was concealed; drift shows as concealment growing with no lag."""

    def __init__(self, name: str, every: float):
        self.name, self.every = name, every
        self.counters: dict[str, float] = {}
        self.maxima: dict[str, float] = {}  # reset each window
        self._gc_start = 0.0
        self._gc: dict[int, list[float]] = {}
        self._first_snapshot = None
        gc.callbacks.append(self._on_gc)
        if os.environ.get("OTODESK_BENCH_TRACEMALLOC") and name == "anchor":
            tracemalloc.start(1)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self._gc.setdefault(info["generation"], []).append((time.perf_counter() - self._gc_start) * 1000)

    def _memory_growth(self) -> None:
        """With OTODESK_BENCH_TRACEMALLOC=1: where memory grew since the second window (the
        first holds the calls' set-up), by the line that allocated it. Tracing and snapshots slow
        and pause the anchor: read memory from such a run, not concealment."""
        snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        if self._first_snapshot is None:
            self._first_snapshot = snapshot
            return
        top = snapshot.compare_to(self._first_snapshot, "lineno")[:6]
        print(json.dumps({"proc": self.name, "traced_mb": round(tracemalloc.get_traced_memory()[0] / 2**20, 2),
                          "grew_since_first_window": [f"{s.size_diff / 1024:+.0f} KiB {s.count_diff:+d} objects "
                                                      f"{s.traceback[0].filename.rsplit('/', 2)[-1]}:{s.traceback[0].lineno}"
                                                      for s in top]}), file=sys.stderr, flush=True)

    def peak(self, key: str, value: float) -> None:
        if value > self.maxima.get(key, 0.0):
            self.maxima[key] = value

    async def run(self) -> None:
        started = time.monotonic()
        clocks = time.time() - started  # the wall clock (bots' pacing) against monotonic (arrival)
        last_counters = dict(self.counters)
        lag_max = 0.0
        window_end = started + self.every
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            lag_max = max(lag_max, (time.monotonic() - before - 0.01) * 1000)
            if time.monotonic() < window_end:
                continue
            window_end += self.every
            line = {"proc": self.name, "t_s": round(time.monotonic() - started),
                    "loop_lag_max_ms": round(lag_max, 1),
                    "gc_passes": {g: len(v) for g, v in sorted(self._gc.items())},
                    "gc_max_ms": {g: round(max(v), 1) for g, v in sorted(self._gc.items())},
                    "clock_drift_ms": round((time.time() - time.monotonic() - clocks) * 1000, 2)}
            line.update({k: round(v - last_counters.get(k, 0), 1) for k, v in self.counters.items()})
            line.update({f"{k}_max": round(v, 1) for k, v in self.maxima.items()})
            print(json.dumps(line), file=sys.stderr, flush=True)
            if tracemalloc.is_tracing():
                self._memory_growth()
            last_counters = dict(self.counters)
            self._gc.clear()
            self.maxima.clear()
            lag_max = 0.0


MONITOR: Monitor | None = None  # set in the bench's child processes when --window is given


# -- the anchors under test, each served in a process of its own --------------------------

class NaiveRelay:
    """The baseline: each leg's audio decoded and re-encoded for the other leg (MediaRelay)."""

    def __init__(self):
        self.relay = MediaRelay()
        self.calls: dict[str, dict[str, RTCPeerConnection]] = {}
        self.sinks: dict[str, dict[str, list]] = {}

    async def offer(self, call_id: str, role: str, sdp: str) -> str:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        legs = self.calls.setdefault(call_id, {})
        legs[role] = pc
        other = "agent" if role == "customer" else "customer"
        out = _SwitchTrack()
        self.sinks.setdefault(call_id, {})[role] = out

        @pc.on("track")
        def _track(track):
            subscribed = self.relay.subscribe(track, buffered=False)
            target = self.sinks[call_id].get(other)
            if target is not None:
                target.source = subscribed
            else:
                self.sinks[call_id][f"pending-{other}"] = subscribed

        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        transceivers = pc.getTransceivers()
        transceivers[0].sender.replaceTrack(out)
        transceivers[0].direction = "sendrecv"
        pending = self.sinks[call_id].pop(f"pending-{role}", None)
        if pending is not None:
            out.source = pending
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    async def aclose(self):
        for legs in self.calls.values():
            for pc in legs.values():
                await pc.close()


class _SwitchTrack(MediaStreamTrack):
    """Sends the frames of ``source`` once there is one (silence is simply nothing sent)."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self.source = None

    async def recv(self):
        while self.source is None:
            if self.readyState != "live":
                raise MediaStreamError
            await asyncio.sleep(0.02)
        return await self.source.recv()


async def serve(mode: str, port: int) -> None:
    """The anchor process: JSON lines ``{call, role, sdp}`` in, ``{sdp}`` out."""
    if mode == "naive":
        anchor = NaiveRelay()
        offer = anchor.offer
    else:
        recordings = Path(os.environ.get("OTODESK_BENCH_RECORDINGS") or tempfile.mkdtemp(prefix="otodesk-bench-"))
        anchor = MediaAnchor(max_calls=10_000, recorder=lambda call_id: PacketRecorder(recordings / f"{call_id}.packets"))

        async def offer(call_id, role, sdp):
            return await anchor.offer(call_id, Role(role), sdp, owner=f"{call_id}:{role}",
                                      recording=mode == "forward+record")

    async def handle(reader, writer):
        while line := await reader.readline():
            request = json.loads(line)
            answer = await offer(request["call"], request["role"], request["sdp"])
            writer.write(json.dumps({"sdp": answer}).encode() + b"\n")
            await writer.drain()

    server = await asyncio.start_server(handle, ADDRESS, port)
    if MONITOR is not None:
        monitor_task = asyncio.create_task(MONITOR.run())  # noqa: F841 - lives as long as the server
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


# -- bots ------------------------------------------------------------------------------

class PacketTrack(MediaStreamTrack):
    """A microphone that sends pre-encoded Opus packets (no encoder cost in the bot)."""

    kind = "audio"

    def __init__(self, packets: list[bytes]):
        super().__init__()
        self.packets = packets
        self.start: float | None = None
        self.index = 0

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self.start is None:
            self.start = time.time()
        else:
            self.index += 1
            wait = self.start + self.index * FRAME_SAMPLES / SAMPLE_RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            elif MONITOR is not None:  # the sender is behind its own schedule
                MONITOR.peak("sender_behind_ms", -wait * 1000)
        packet = av.Packet(self.packets[self.index % len(self.packets)])
        packet.pts = self.index * FRAME_SAMPLES
        packet.time_base = TIME_BASE
        return packet


class LightBot:
    """Sends packets, counts what arrives (tapped: nothing decoded), notes gaps and concealment."""

    def __init__(self, packets: list[bytes]):
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        transceiver = self.pc.addTransceiver(PacketTrack(packets), direction="sendrecv")
        self.pc.addTransceiver("audio", direction="recvonly")
        self.received = 0
        self.gaps = 0
        self.last: float | None = None
        self.counting = False
        # Playout: media time (unwrapped RTP timestamp, s) against arrival; the earliest
        # (arrival - media time) seen is the ideal playout clock, a frame later than
        # PLAYOUT_MS behind it would be concealed.
        self._ts: int | None = None
        self._media = 0.0
        self._base: float | None = None
        self.on_time = 0
        self._first_media: float | None = None
        self._last_media = 0.0
        self._adaptive_base: float | None = None
        self.expanded = 0  # frames the adaptive model played while waiting for late ones
        tap_receiver(transceiver.receiver, self._packet)

    def _packet(self, packet) -> None:
        now = time.monotonic()
        if self._ts is not None:
            step = (packet.timestamp - self._ts) % (1 << 32)
            if step >= 1 << 31:  # an older packet, out of order
                step -= 1 << 32
            self._media += step / SAMPLE_RATE
        self._ts = packet.timestamp
        offset = now - self._media
        self._base = offset if self._base is None else min(self._base, offset)
        # The adaptive model (the module docstring says why): a jitter buffer that ran dry waits
        # for the late frame and plays on from it; an earlier frame moves its clock back at once.
        late = offset - self._adaptive_base - PLAYOUT_MS / 1000 if self._adaptive_base is not None else 0.0
        if self._adaptive_base is None or offset < self._adaptive_base:
            self._adaptive_base = offset
        elif late > 0:
            self._adaptive_base = offset - PLAYOUT_MS / 1000
        if self.counting:
            self.received += 1
            if self.last is not None and now - self.last > 0.1:
                self.gaps += 1
            if self._first_media is None:
                self._first_media = self._media
            self._last_media = max(self._last_media, self._media)
            if offset - self._base <= PLAYOUT_MS / 1000:
                self.on_time += 1
            if late > 0:
                self.expanded += math.ceil(late * SAMPLE_RATE / FRAME_SAMPLES)
            if MONITOR is not None:
                c = MONITOR.counters
                c["received"] = c.get("received", 0) + 1
                c["late_fixed_clock"] = c.get("late_fixed_clock", 0) + (offset - self._base > PLAYOUT_MS / 1000)
                c["expanded_adaptive"] = c.get("expanded_adaptive", 0) + (math.ceil(late * 50) if late > 0 else 0)
                MONITOR.peak("arrival_behind_fixed_clock_ms", (offset - self._base) * 1000)
        self.last = now

    def concealed_frames(self) -> int:
        """20 ms frames of the counted span a browser would have concealed: the frames that
        never came and those its jitter buffer played while waiting for late ones."""
        if self._first_media is None:
            return 0
        expected = round((self._last_media - self._first_media) * SAMPLE_RATE / FRAME_SAMPLES) + 1
        return max(0, expected - self.received) + self.expanded

    def concealed_frames_fixed_clock(self) -> int:
        """The same for an ideal buffer that never re-anchors: frames missing or after their time."""
        if self._first_media is None:
            return 0
        expected = round((self._last_media - self._first_media) * SAMPLE_RATE / FRAME_SAMPLES) + 1
        return max(0, expected - self.on_time)

    async def connect(self, signal) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await signal(self.pc.localDescription.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def close(self) -> None:
        await self.pc.close()


class BurstProbe:
    """A probe call: the sender's tone comes in 20 ms bursts every 500 ms; the receiver times onsets."""

    PERIOD = 0.5

    def __init__(self):
        self.sender = Bot(1000)
        self.receiver = Bot(300)
        self.sender.mic.silent = True
        self.receiver.mic.silent = True
        self.latencies: list[float] = []
        self._sent: list[float] = []
        self._quiet = True
        self.task: asyncio.Task | None = None

    def _frame(self, samples, at: float) -> None:
        loud = max(abs(min(samples)), abs(max(samples))) > 2000
        if loud and self._quiet:
            sent = [t for t in self._sent if 0 < at - t < self.PERIOD * 0.8]
            if sent:
                self.latencies.append((at - sent[-1]) * 1000)
        self._quiet = not loud

    async def run(self) -> None:
        while not self.receiver.ears:
            await asyncio.sleep(0.05)
        self.receiver.ears[0].on_frame = self._frame
        while True:
            await asyncio.sleep(self.PERIOD)
            mic = self.sender.mic
            mic.silent = False
            mic.mark()
            await asyncio.sleep(0.021)
            mic.silent = True
            if mic.marks:
                self._sent.append(mic.marks[-1])
                self._sent = self._sent[-10:]


# -- one run ----------------------------------------------------------------------------

def machine_busy_seconds() -> tuple[float, float]:
    """CPU seconds every core spent running processes (user, nice, system: not interrupts,
    which carry the bench's own packets), and stolen by the hypervisor, since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    return sum(fields[:3]) / tick, fields[7] / tick


async def direct_baseline(probes: int, seconds: float) -> list[float]:
    """Probe bots connected to each other, no anchor: what the bots themselves add."""
    runs = [BurstProbe() for _ in range(probes)]
    for probe in runs:
        async def answer_directly(sdp, probe=probe):
            await probe.receiver.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            await probe.receiver.pc.setLocalDescription(await probe.receiver.pc.createAnswer())
            return probe.receiver.pc.localDescription.sdp
        await probe.sender.connect(answer_directly)
    for probe in runs:
        await probe.sender.connected()
        probe.task = asyncio.create_task(probe.run())
    await asyncio.sleep(seconds)
    latencies = [x for probe in runs for x in probe.latencies]
    for probe in runs:
        probe.task.cancel()
        await probe.sender.close()
        await probe.receiver.close()
    return latencies


async def _signaling(port: int):
    reader, writer = await asyncio.open_connection(ADDRESS, port)
    lock = asyncio.Lock()

    async def signal(call: str, role: str, sdp: str) -> str:
        async with lock:
            writer.write(json.dumps({"call": call, "role": role, "sdp": sdp}).encode() + b"\n")
            await writer.drain()
            return json.loads(await reader.readline())["sdp"]
    return signal, writer


async def load_worker(port: int, calls: int) -> None:
    """The load: ``calls`` calls of light bots, in a process of their own. Talks on stdin/stdout:
    prints ``connected N``, counts between the lines ``count`` and ``stop``, prints a JSON result."""
    signal, writer = await _signaling(port) if port else (None, None)
    customer_packets, agent_packets = encode_tone(440), encode_tone(880)
    bots: list[LightBot] = []
    for i in range(calls):
        pair = []
        if signal is None:  # "direct": the agent bot answers the customer bot, no anchor
            pair = [LightBot(customer_packets), LightBot(agent_packets)]
            await pair[0].connect(lambda sdp, agent=pair[1]: _answer(agent.pc, sdp))
        for role, packets in (("customer", customer_packets), ("agent", agent_packets)) if signal else ():
            bot = LightBot(packets)
            await bot.connect(lambda sdp, i=i, role=role: signal(f"c{i}", role, sdp))
            pair.append(bot)
        bots += pair
        # One call's handshakes (DTLS is costly) at a time, as calls arrive in real life.
        deadline = time.monotonic() + 10
        while any(b.pc.connectionState != "connected" for b in pair) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    print(f"connected {sum(b.pc.connectionState == 'connected' for b in bots)} {len(bots)}", flush=True)
    loop = asyncio.get_running_loop()
    assert (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "count"
    started = time.monotonic()
    for bot in bots:
        bot.counting = True
    if MONITOR is not None:
        monitor_task = asyncio.create_task(MONITOR.run())  # noqa: F841 - lives as long as the worker
    assert (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "stop"
    wall = time.monotonic() - started
    result = {"received": sum(b.received for b in bots), "gaps": sum(b.gaps for b in bots),
              "expected": len(bots) * wall * 50, "concealed_frames": sum(b.concealed_frames() for b in bots),
              "legs_concealing": sum(b.concealed_frames() > 0 for b in bots),
              "concealed_frames_fixed_clock": sum(b.concealed_frames_fixed_clock() for b in bots)}
    print(json.dumps(result), flush=True)
    for bot in bots:
        await bot.close()
    if writer is not None:
        writer.close()


async def _answer(pc: RTCPeerConnection, sdp: str) -> str:
    await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    return pc.localDescription.sdp


async def run_mode(mode: str, calls: int, probes: int, seconds: float, port: int, profile: str | None = None,
                   rss_every: float | None = None, nice: int = 0) -> dict:
    window = ["--window", str(rss_every)] if rss_every else []
    command = [sys.executable, "-m", "bench.voice", "--serve", mode, "--port", str(port)] + window
    if profile:
        command += ["--profile", f"{profile}.{mode}"]
    recordings = tempfile.mkdtemp(prefix="otodesk-bench-")
    direct = mode == "direct"
    process = None if direct else subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                                                   env={**os.environ, "OTODESK_BENCH_RECORDINGS": recordings})
    worker = None
    try:
        assert direct or process.stdout.readline().strip() == "ready"
        worker = subprocess.Popen([sys.executable, "-m", "bench.voice", "--load", str(calls), "--port", str(0 if direct else port)] + window,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for child in (process, worker):  # --nice: the bench's processes before other load
            if nice and child is not None:
                os.setpriority(os.PRIO_PROCESS, child.pid, nice)
        loop = asyncio.get_running_loop()
        _, connected, legs = (await loop.run_in_executor(None, worker.stdout.readline)).split()
        signal, writer = await _signaling(port) if not direct else (None, None)
        probe_runs = [BurstProbe() for _ in range(0 if direct else probes)]
        for i, probe in enumerate(probe_runs):
            await probe.sender.connect(lambda sdp, i=i: signal(f"p{i}", "customer", sdp))
            await probe.receiver.connect(lambda sdp, i=i: signal(f"p{i}", "agent", sdp))
            await probe.sender.connected()
            await probe.receiver.connected()
        for probe in probe_runs:
            probe.task = asyncio.create_task(probe.run())
        await asyncio.sleep(2.0)  # warm-up
        worker.stdin.write("count\n")
        worker.stdin.flush()
        pid = worker.pid if direct else process.pid  # direct: no anchor; the figures are the bots'
        rss_start = rss_mb(pid)
        cpu_start, wall_start = cpu_seconds(pid), time.monotonic()
        rss_samples = [(0.0, rss_start)]
        # What else kept the machine's cores busy meanwhile: a starved bench conceals audio.
        ours = [p for p in (os.getpid(), worker.pid, None if direct else process.pid) if p]
        busy_start, mine_start = machine_busy_seconds()[0], sum(map(cpu_seconds, ours))
        if rss_every:  # a soak: RSS sampled as it goes
            busy, mine = machine_busy_seconds(), mine_start
            while (elapsed := time.monotonic() - wall_start) < seconds:
                await asyncio.sleep(min(rss_every, seconds - elapsed))
                rss_samples.append((time.monotonic() - wall_start, rss_mb(pid)))
                busy_now, mine_now = machine_busy_seconds(), sum(map(cpu_seconds, ours))
                span = max(1e-3, rss_samples[-1][0] - rss_samples[-2][0])
                print(f"  {rss_samples[-1][0]:6.0f} s  anchor RSS {rss_samples[-1][1]:.1f} MB  "
                      f"bench {100 * (mine_now - mine) / span:.0f} %  other processes "
                      f"{100 * max(0.0, busy_now[0] - busy[0] - (mine_now - mine)) / span:.0f} %  "
                      f"stolen {100 * (busy_now[1] - busy[1]) / span:.0f} % of a core", flush=True)
                busy, mine = busy_now, mine_now
        else:
            await asyncio.sleep(seconds)
        cpu = cpu_seconds(pid) - cpu_start
        wall = time.monotonic() - wall_start
        others = max(0.0, machine_busy_seconds()[0] - busy_start - (sum(map(cpu_seconds, ours)) - mine_start))
        rss_end = rss_mb(pid)
        worker.stdin.write("stop\n")
        worker.stdin.flush()
        load = json.loads(await loop.run_in_executor(None, worker.stdout.readline))
        latencies = [x for probe in probe_runs for x in probe.latencies]
        for probe in probe_runs:
            probe.task.cancel()
            await probe.sender.close()
            await probe.receiver.close()
        if writer is not None:
            writer.close()
        total_calls = calls + len(probe_runs)
        core_share = cpu / wall
        return {
            "mode": mode, "calls": total_calls, "legs_connected": int(connected), "legs": int(legs),
            "core_share": core_share, "others_core_share": others / wall,
            "cpu_ms_per_call_second": cpu / wall / total_calls * 1000,
            "calls_per_core": total_calls / core_share if core_share else float("inf"),
            # Starved bots deliver fewer packets than a real call: per delivered packet, a call
            # at the full rate (2 legs × 50 packets/s) would cost this much.
            "calls_per_core_full_rate": (load["received"] / wall) / (core_share * 100)
            if core_share and load["received"] else 0.0,
            "packets_expected": load["expected"], "packets_received": load["received"],
            "gaps_over_100ms": load["gaps"], "latency_ms": latencies,
            "concealed_frames": load["concealed_frames"], "legs_concealing": load["legs_concealing"],
            "concealed_frames_fixed_clock": load["concealed_frames_fixed_clock"],
            "rss_mb": rss_end, "rss_growth_mb": rss_end - rss_start, "rss_samples": rss_samples,
        }
    finally:
        for child in (worker, process):
            if child is None:
                continue
            child.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(10)
            if child.poll() is None:
                child.kill()
        shutil.rmtree(recordings, ignore_errors=True)


def p95(values: list[float]) -> float | None:
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=20)[-1]


def slope_per_hour(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) samples, in MB per hour."""
    if len(samples) < 2:
        return None
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    return sum((t - mean_t) * (m - mean_m) for t, m in samples) / spread * 3600 if spread else None


async def soak(args) -> None:
    mode = args.modes.split(",")[0]
    print(f"soak: {args.calls + args.probes} calls through {mode} for {args.soak:.0f} s, RSS every {args.rss_every:.0f} s")
    r = await run_mode(mode, args.calls, args.probes, args.soak, 40100, rss_every=args.rss_every, nice=args.nice)
    samples = r["rss_samples"]
    slope = slope_per_hour(samples)
    # The first minutes carry allocator warm-up; the slope of the second half is the leak test.
    second_half = [s for s in samples if s[0] >= args.soak / 2]
    late_slope = slope_per_hour(second_half)
    concealed = 100 * r["concealed_frames"] / max(1, r["packets_expected"])
    fixed = 100 * r["concealed_frames_fixed_clock"] / max(1, r["packets_expected"])
    print(f"RSS {samples[0][1]:.1f} -> {samples[-1][1]:.1f} MB; slope {slope:+.2f} MB/h overall, "
          f"{late_slope:+.2f} MB/h over the second half; CPU {r['core_share'] * 100:.1f} % of a core; "
          f"delivered {100 * r['packets_received'] / max(1, r['packets_expected']):.1f} %; concealed {concealed:.3f} % "
          f"({fixed:.3f} % by a fixed playout clock); other processes {r['others_core_share'] * 100:.0f} % of a core")
    print(json.dumps({"soak_mode": mode, "soak_calls": r["calls"], "soak_seconds": args.soak,
                      "soak_legs_connected": r["legs_connected"], "soak_rss_start_mb": round(samples[0][1], 1),
                      "soak_rss_end_mb": round(samples[-1][1], 1), "soak_rss_slope_mb_per_hour": _round(slope),
                      "soak_rss_slope_second_half_mb_per_hour": _round(late_slope),
                      "soak_cpu_core_percent": round(r["core_share"] * 100, 1),
                      "soak_packets_delivered_percent": round(100 * r["packets_received"] / max(1, r["packets_expected"]), 2),
                      "soak_concealed_percent": round(concealed, 3),
                      "soak_concealed_fixed_clock_percent": round(fixed, 3),
                      "soak_other_processes_core_percent": round(r["others_core_share"] * 100, 1)}))


async def main(args) -> None:
    if args.soak:
        await soak(args)
        return
    baseline = await direct_baseline(args.probes, args.seconds)
    base_p50 = statistics.median(baseline) if baseline else 0.0
    results = []
    for n, mode in enumerate(args.modes.split(",")):
        result = await run_mode(mode, args.calls, args.probes, args.seconds, 40000 + n, args.profile, nice=args.nice)
        added = [x - base_p50 for x in result.pop("latency_ms")]
        result["added_latency_p50_ms"] = statistics.median(added) if added else None
        result["added_latency_p95_ms"] = p95(added)
        results.append(result)
    print(f"direct bot-to-bot one-way (baseline, subtracted): p50 {base_p50:.1f} ms over {len(baseline)} bursts")
    print(f"{'anchor':16} {'calls':>5} {'legs up':>8} {'CPU %':>6} {'ms CPU/call·s':>14} {'calls/core':>10} {'at full rate':>12} "
          f"{'+lat p50':>9} {'+lat p95':>9} {'recv %':>7} {'gaps':>5} {'concealed %':>11} {'legs':>5} {'RSS MB':>7} {'others %':>8}")
    for r in results:
        print(f"{r['mode']:16} {r['calls']:5d} {r['legs_connected']:4d}/{r['legs']:<3d} {r['core_share'] * 100:6.1f} "
              f"{r['cpu_ms_per_call_second']:14.2f} {r['calls_per_core']:10.0f} {r['calls_per_core_full_rate']:12.0f} "
              f"{_ms(r['added_latency_p50_ms']):>9} {_ms(r['added_latency_p95_ms']):>9} "
              f"{100 * r['packets_received'] / max(1, r['packets_expected']):7.1f} {r['gaps_over_100ms']:5d} "
              f"{100 * r['concealed_frames'] / max(1, r['packets_expected']):11.3f} {r['legs_concealing']:5d} {r['rss_mb']:7.0f} "
              f"{r['others_core_share'] * 100:8.0f}")
    by = {r["mode"]: r for r in results}
    summary = {"calls_concurrent": args.calls + args.probes, "seconds_measured": args.seconds,
               "baseline_one_way_p50_ms": round(base_p50, 1)}
    for r in results:
        key = r["mode"].replace("+", "_")
        if r["mode"] == "direct":  # no anchor: only what the bots deliver and conceal by themselves
            summary["direct_packets_delivered_percent"] = round(100 * r["packets_received"] / max(1, r["packets_expected"]), 1)
            summary["direct_concealed_percent"] = round(100 * r["concealed_frames"] / max(1, r["packets_expected"]), 3)
            summary["direct_legs_with_concealment_count"] = r["legs_concealing"]
            summary["direct_other_processes_core_percent"] = round(r["others_core_share"] * 100, 1)
            continue
        summary[f"{key}_calls_per_core"] = round(r["calls_per_core"], 1)
        summary[f"{key}_calls_per_core_at_full_packet_rate"] = round(r["calls_per_core_full_rate"], 1)
        summary[f"{key}_packets_delivered_percent"] = round(100 * r["packets_received"] / max(1, r["packets_expected"]), 1)
        summary[f"{key}_cpu_ms_per_call_second"] = round(r["cpu_ms_per_call_second"], 3)
        summary[f"{key}_added_latency_p50_ms"] = _round(r["added_latency_p50_ms"])
        summary[f"{key}_added_latency_p95_ms"] = _round(r["added_latency_p95_ms"])
        summary[f"{key}_gaps_over_100ms_count"] = r["gaps_over_100ms"]
        summary[f"{key}_concealed_percent"] = round(100 * r["concealed_frames"] / max(1, r["packets_expected"]), 3)
        summary[f"{key}_legs_with_concealment_count"] = r["legs_concealing"]
        summary[f"{key}_concealed_fixed_clock_percent"] = round(
            100 * r["concealed_frames_fixed_clock"] / max(1, r["packets_expected"]), 3)
        summary[f"{key}_other_processes_core_percent"] = round(r["others_core_share"] * 100, 1)
        summary[f"{key}_rss_growth_mb"] = round(r["rss_growth_mb"], 1)
    if "forward" in by and "naive" in by:
        summary["calls_per_core_ratio_forward_to_naive"] = round(by["forward"]["calls_per_core"] / by["naive"]["calls_per_core"], 1)
        if by["naive"]["calls_per_core_full_rate"]:
            summary["full_rate_calls_per_core_ratio_forward_to_naive"] = round(
                by["forward"]["calls_per_core_full_rate"] / by["naive"]["calls_per_core_full_rate"], 1)
    print(json.dumps(summary))


def _ms(value):
    return "–" if value is None else f"{value:.1f}"


def _round(value):
    return None if value is None else round(value, 1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=15)
    parser.add_argument("--probes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--modes", default="direct,forward,forward+record,naive")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--load", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile", help="write a cProfile of each anchor process to PROFILE.<mode>")
    parser.add_argument("--soak", type=float, help="carry the calls this many seconds through one anchor; RSS slope")
    parser.add_argument("--rss-every", type=float, default=30.0, help="seconds between RSS samples in a soak")
    parser.add_argument("--nice", type=int, default=0,
                        help="run the anchor and the bots at this priority (e.g. -10) on a machine shared with other work")
    parser.add_argument("--window", type=float, help=argparse.SUPPRESS)  # child processes: Monitor lines
    args = parser.parse_args()
    if args.window:
        MONITOR = Monitor("anchor" if args.serve else "bots", args.window)
    if args.serve and args.profile:
        import cProfile
        import signal
        profiler = cProfile.Profile()
        signal.signal(signal.SIGTERM, lambda *_: (profiler.disable(), profiler.dump_stats(args.profile), os._exit(0)))
        profiler.enable()
        asyncio.run(serve(args.serve, args.port))
    elif args.serve:
        asyncio.run(serve(args.serve, args.port))
    elif args.load is not None:
        asyncio.run(load_worker(args.port, args.load))
    else:
        if os.geteuid() != 0:
            sys.exit("bench.voice needs root: it runs in a network namespace of its own")
        from tests.helpers.netns import network_namespace
        if args.nice:
            os.setpriority(os.PRIO_PROCESS, 0, args.nice)  # this process runs the probes
        with network_namespace():
            asyncio.run(main(args))
