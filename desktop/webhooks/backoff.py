"""When a failed delivery is tried again: exponential backoff with jitter. Pure.

Attempt n (1 the first) failing waits ``base * 2**(n-1)`` seconds, capped at ``cap``, of
which a random half is jitter ("equal jitter": between half and all of it), so receivers
that came back together are not hit by every sender at the same instant. With the
defaults (10 s, cap 6 h, 15 attempts) a delivery is tried for about a day, then given up.
"""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["delay", "next_attempt_at"]


def delay(attempt: int, *, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after failed attempt ``attempt`` (>= 1); ``rand()`` in [0, 1)."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, not {attempt}")
    full = min(cap, base * 2.0 ** min(attempt - 1, 60))
    return full / 2 + rand() * full / 2


def next_attempt_at(attempt: int, now: float, *, base: float, cap: float, max_attempts: int,
                    rand: Callable[[], float] = random.random) -> float | None:
    """When to try again after failed attempt ``attempt``, or None: give up (``max_attempts`` made)."""
    if attempt >= max_attempts:
        return None
    return now + delay(attempt, base=base, cap=cap, rand=rand)
