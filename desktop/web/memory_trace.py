"""Where a server's memory goes, on request: ``OTODESK_TRACEMALLOC=1`` starts tracemalloc at
start-up, and each SIGUSR1 logs the 25 allocation sites that grew most since the previous
one (bench/idle_sockets.py --where). Off by default: tracing slows every allocation."""

from __future__ import annotations

import asyncio
import logging
import signal
import tracemalloc

__all__ = ["start_memory_trace"]

log = logging.getLogger(__name__)


def start_memory_trace(frames: int = 4) -> None:
    tracemalloc.start(frames)
    previous = [tracemalloc.take_snapshot()]

    def dump() -> None:
        snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        growth = snapshot.compare_to(previous[0], "traceback")[:25]
        previous[0] = snapshot
        lines = [f"tracemalloc: {sum(s.size_diff for s in growth) / 1024:.0f} KiB in the top 25 sites"]
        for stat in growth:
            lines.append(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
            lines += [f"      {frame.filename}:{frame.lineno}" for frame in stat.traceback]
        log.warning("\n".join(lines))

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump)
