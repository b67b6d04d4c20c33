"""Rate limits a connection enforces on itself, pure (the clock is passed in), and how a
wait is told to a person."""

from __future__ import annotations

import math

__all__ = ["TokenBucket", "describe_wait"]


def describe_wait(seconds: float) -> str:
    """When a refused person may try again, in words: "in 40 seconds", "in 4 minutes".

    Rounded up, so trying again at the time said always works.

    >>> describe_wait(0.2), describe_wait(61), describe_wait(3600), describe_wait(5400)
    ('in 1 second', 'in 2 minutes', 'in 60 minutes', 'in 2 hours')
    """
    if seconds <= 60:
        count, unit = max(1, math.ceil(seconds)), "second"
    elif seconds <= 3600:
        count, unit = math.ceil(seconds / 60), "minute"
    else:
        count, unit = math.ceil(seconds / 3600), "hour"
    return f"in {count} {unit}{'' if count == 1 else 's'}"


class TokenBucket:
    """Allows ``rate`` events a second on average, in bursts of up to ``burst``.

    >>> bucket = TokenBucket(rate=1.0, burst=2, now=0.0)
    >>> bucket.take(0.0), bucket.take(0.0), bucket.take(0.0), bucket.take(1.0)
    (True, True, False, True)
    """

    __slots__ = ("rate", "burst", "_tokens", "_updated")

    def __init__(self, *, rate: float, burst: int, now: float):
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, got rate={rate} burst={burst}")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated = now

    def take(self, now: float) -> bool:
        """Spend one token; False (and nothing spent) when the bucket is empty."""
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._updated = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
