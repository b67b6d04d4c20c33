"""A call's quality: each leg's figures, as aiortc measures them and as the browser reports them.

Every ``STATS_INTERVAL`` seconds the anchoring process samples its calls' legs for
the wall; :class:`QualityLog` keeps each leg's last figures for the call's record on
the customer's timeline. A browser's own ``voice_stats`` report (at most one every
``BROWSER_STATS_MIN_INTERVAL`` seconds) is merged into its leg with
:func:`merge_browser_report`. :class:`LegFigures` adds the same samples up for ``/metrics``.
"""

from __future__ import annotations

import collections
import weakref
from typing import Any

from signaling.stats import Histogram

__all__ = ["LegFigures", "QualityLog", "merge_browser_report", "STATS_INTERVAL", "BROWSER_STATS_MIN_INTERVAL"]

STATS_INTERVAL = 2.0  # seconds between quality reports to the wall
BROWSER_STATS_MIN_INTERVAL = 1.0  # seconds: a browser reporting faster is refused (rate_limited)


def merge_browser_report(leg, report: dict[str, Any]) -> None:
    """Fold a browser's report (``rtt_ms``, ``jitter_ms``, ``loss``, ``concealed_ms``) into ``leg.browser``."""
    # A report lacks what the browser doesn't know yet (no round trip before the first
    # receiver report): the last known figure stands.
    leg.browser = {**leg.browser, **{k: (round(v, 4) if k == "loss" else round(v, 1))
                                     for k, v in report.items() if v is not None}}


class QualityLog:
    """callback id -> {role: the leg's last quality}, kept for the call's record."""

    def __init__(self) -> None:
        self._calls: dict[str, dict[str, dict]] = {}

    def keep(self, call_id: str, legs: list[dict[str, Any]]) -> None:
        """Note a sample of the call's legs (``Call.stats()``); a leg with no figures yet is skipped."""
        kept = self._calls.setdefault(call_id, {})
        for leg in legs:
            if leg["rtt_ms"] is not None or leg["loss"] is not None:
                # A leg remade mid-call (reload, reconnect) starts with no browser report:
                # the call keeps the one its earlier leg sent.
                browser = {**kept.get(leg["role"], {}).get("browser", {}), **leg["browser"]}
                kept[leg["role"]] = {**{k: leg[k] for k in ("rtt_ms", "jitter_ms", "loss", "loss_out")},
                                     "browser": browser}

    def pop(self, call_id: str) -> dict[str, dict]:
        """The call's last quality per leg, forgotten here (the call ended)."""
        return self._calls.pop(call_id, {})


#: Upper bounds (seconds) of the jitter and round-trip buckets; the wall warns above 30 ms
#: jitter and 300 ms round trip.
JITTER_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.1)
RTT_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


class LegFigures:
    """The legs anchored here, added up by role for monitoring: packets received and lost
    (counters, from each sample's growth), jitter and round trip (one observation a leg a sample),
    and the audio the browsers concealed (their own reports)."""

    def __init__(self) -> None:
        self.received: collections.Counter[str] = collections.Counter()
        self.lost: collections.Counter[str] = collections.Counter()
        self.concealed: collections.Counter[str] = collections.Counter()  # seconds
        self.jitter: dict[str, Histogram] = collections.defaultdict(lambda: Histogram(JITTER_BUCKETS))
        self.rtt: dict[str, Histogram] = collections.defaultdict(lambda: Histogram(RTT_BUCKETS))
        # leg -> (packets received, lost) at its last sample; forgotten with the leg. By the leg
        # object, not its role: a leg remade mid-call (a reload) counts again from zero.
        self._seen: weakref.WeakKeyDictionary[Any, tuple[int, int]] = weakref.WeakKeyDictionary()

    def sample(self, leg: Any, figures: dict[str, Any]) -> None:
        """Count one sample of ``leg`` (its ``stats()``)."""
        role = figures["role"]
        received, lost = figures.get("packets_in") or 0, figures.get("packets_lost")
        seen_received, seen_lost = self._seen.get(leg, (0, 0))
        self.received[role] += max(0, received - seen_received)
        if lost is not None:
            # RTCP's cumulative loss may go down (duplicates): count only its growth.
            self.lost[role] += max(0, lost - seen_lost)
            seen_lost = max(seen_lost, lost)
        self._seen[leg] = (max(received, seen_received), seen_lost)
        if figures.get("jitter_ms") is not None:
            self.jitter[role].observe(figures["jitter_ms"] / 1000)
        if figures.get("rtt_ms") is not None:
            self.rtt[role].observe(figures["rtt_ms"] / 1000)

    def browser_report(self, role: str, report: dict[str, Any]) -> None:
        """Count a browser's ``voice_stats`` (``concealed_ms`` is since its previous report)."""
        if report.get("concealed_ms"):
            self.concealed[role] += report["concealed_ms"] / 1000
