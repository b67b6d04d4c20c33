"""A call's quality: each leg's figures, as aiortc measures them and as the browser reports them.

Every ``STATS_INTERVAL`` seconds the anchoring process samples its calls' legs for
the wall; :class:`QualityLog` keeps each leg's last figures for the call's record on
the customer's timeline. A browser's own ``voice_stats`` report (at most one every
``BROWSER_STATS_MIN_INTERVAL`` seconds) is merged into its leg with
:func:`merge_browser_report`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["QualityLog", "merge_browser_report", "STATS_INTERVAL", "BROWSER_STATS_MIN_INTERVAL"]

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
