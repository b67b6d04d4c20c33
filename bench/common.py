"""What the benches share: where the tree is, a process's CPU and memory, latency summaries."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from tests.helpers.server import free_port

__all__ = ["ROOT", "cpu_seconds", "rss_mb", "summary", "free_port"]

ROOT = Path(__file__).resolve().parents[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads, not its children), from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()  # the name may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """A process's resident memory in MiB (0.0 if /proc does not say)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def summary(samples_ms: list[float]) -> dict[str, float]:
    """p50, p90, p99, mean and max of latencies in ms (nearest rank), and their count."""
    ordered = sorted(samples_ms)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": pick(0.50), "p90": pick(0.90), "p99": pick(0.99),
            "mean": statistics.fmean(ordered), "max": ordered[-1], "n": len(ordered)}
