"""The cyclic garbage collector on a server with thousands of idle sockets: its policy and its pauses.

CPython's collector stops the whole process while it runs, so a pass is a pause of every
socket. A young pass (generation 0 or 1) walks the objects allocated since the last one and is
short; a full pass (generation 2) walks every tracked object the process holds, ~225 a socket
until 2026-12-04 (~90 since: desktop/web/socket_app.py, signaling/hub.py): with 6,000 sockets
1.1 to 1.4 s then on a loaded 2-core machine. CPython starts a full pass once
the objects promoted since the last one reach a quarter of those that survived it, which
thousands of sockets connecting at once reach again and again (bench/gc_stall.py).

:func:`apply_gc_policy` runs once the app has started (its imports, migrations, demo seed and
compiled rules loaded): it collects, then ``gc.freeze()``s what is left (moved to the
permanent generation and never scanned again; still freed by reference counting, only a cycle
among them would stay, and it lives as long as the process anyway), and sets the thresholds
of ``OTODESK_GC_THRESHOLDS`` (a bigger young generation: fewer, longer young passes, and fewer
promotions that wake up a full pass).

:class:`GcPauses` times every pass through ``gc.callbacks`` (two clock reads per pass) for
``/metrics``: count and seconds by generation, and the longest since the last scrape.
"""

from __future__ import annotations

import gc
import time

__all__ = ["GcPauses", "apply_gc_policy", "tracked_objects"]

GENERATIONS = (0, 1, 2)


def apply_gc_policy(thresholds: tuple[int, int, int] | None) -> int:
    """Collect, freeze what survives, set the thresholds (None: CPython's own); returns how
    many objects are now frozen. Call once, when start-up has loaded what lives for ever."""
    gc.collect()
    gc.freeze()
    if thresholds is not None:
        gc.set_threshold(*thresholds)
    return gc.get_freeze_count()


def tracked_objects() -> dict[str, int]:
    """Objects the collector tracks, by generation, and the frozen ones. Walks every object
    (tens of ms with a million): for an operator asking, not for every scrape."""
    counts = {str(generation): len(gc.get_objects(generation)) for generation in GENERATIONS}
    counts["permanent"] = gc.get_freeze_count()
    return counts


class GcPauses:
    """Every collector pass of this process timed, by generation (install / uninstall around
    the app's life: tests start many apps in one process)."""

    def __init__(self) -> None:
        self.passes = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.worst = [0.0, 0.0, 0.0]  # since the last take_worst()
        self._started = 0.0

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        took = time.perf_counter() - self._started
        generation = info["generation"]
        self.passes[generation] += 1
        self.seconds[generation] += took
        if took > self.worst[generation]:
            self.worst[generation] = took

    def take_worst(self) -> list[float]:
        """The longest pass by generation since the previous call, in seconds."""
        worst, self.worst = self.worst, [0.0, 0.0, 0.0]
        return worst
