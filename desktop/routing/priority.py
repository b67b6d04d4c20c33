"""Who is next: priority bonuses, the waiting line of a queue, the wait estimate.

A waiting callback's effective priority is ``bonus + seconds waited``, where
the static bonus comes from the customer's tier and urgent words in the text.
Waiting adds the same to everybody, so ordering by
``key = enqueued_at - bonus`` (smaller first, ties by arrival) gives the same
order at every instant and never changes while callbacks wait: a heap works.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Protocol

__all__ = [
    "DEFAULT_TIER_BONUS", "DEFAULT_URGENT_WORDS", "DEFAULT_HANDLE_TIME",
    "UrgencyMatcher", "WaitingLine", "estimate_wait",
]

DEFAULT_TIER_BONUS: Mapping[str, float] = MappingProxyType(
    {"standard": 0.0, "silver": 60.0, "gold": 180.0, "platinum": 300.0}
)
DEFAULT_URGENT_WORDS: tuple[str, ...] = (
    "urgent", "urgently", "emergency", "asap", "immediately", "right away",
    "as soon as possible", "critical", "fraud", "stolen",
    # Chinese (simplified and traditional): urgent, as soon as possible, at once, fraud, stolen
    "紧急", "緊急", "尽快", "盡快", "马上", "馬上", "立刻", "立即", "诈骗", "詐騙", "被盗", "被盜", "盗刷", "盜刷",
)
#: Scripts written without spaces between words (Chinese, Japanese kana, Thai): a word there is
#: found inside a run of text ("紧急" in "我需要紧急退款"), where a Latin word needs its boundaries.
_UNSPACED_RANGES = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNSPACED = re.compile(f"[{_UNSPACED_RANGES}]")
#: A letter of a spaced script: what may not touch a Latin word's ends ("urgent" is in "urgent退款").
_SPACED_LETTER = f"[^\\W{_UNSPACED_RANGES}]"
DEFAULT_HANDLE_TIME = 180.0  # seconds, assumed before any contact was handled


class UrgencyMatcher:
    """Tells whether a text holds one of the urgent words or phrases.

    Case-insensitive, whole words only ("urgent" does not match "insurgent"),
    and a phrase matches across any run of whitespace, line breaks included. A word of a
    script written without spaces (Chinese) matches anywhere in the text: it has no
    boundaries to look for.
    Each text costs a few substring scans; the regular expression runs only
    when one of them hits, which most texts never do.
    """

    __slots__ = ("_needles", "_pattern")

    def __init__(self, words: Iterable[str]) -> None:
        phrases = [w.casefold().split() for w in words if w.strip()]
        # the longest word of each phrase: present in any text the phrase matches
        self._needles = tuple({max(p, key=len) for p in phrases})
        parts = sorted((_bounded(p) for p in phrases), key=len, reverse=True)
        self._pattern = re.compile("|".join(parts)) if parts else None

    def __call__(self, text: str) -> bool:
        folded = text.casefold()
        for needle in self._needles:
            if needle in folded:
                return self._pattern.search(folded) is not None
        return False


def _bounded(phrase: list[str]) -> str:
    """The phrase's pattern, with a word boundary at each end written in a spaced script."""
    body = r"\s+".join(map(re.escape, phrase))
    start = "" if _UNSPACED.match(phrase[0][0]) else f"(?<!{_SPACED_LETTER})"
    end = "" if _UNSPACED.match(phrase[-1][-1]) else f"(?!{_SPACED_LETTER})"
    return f"{start}(?:{body}){end}"


class Waiting(Protocol):
    """What a waiting line holds: an ordering key and a slot for its heap entry."""

    key: float
    seq: int
    entry: tuple[float, int, Waiting] | None


class WaitingLine:
    """The waiting items of one queue, smallest ``(key, seq)`` first.

    A heap with lazy deletion: removing an item from the middle only clears
    ``item.entry``; the dead entry is skipped when it reaches the top and
    dropped when dead entries outnumber live ones. ``push``/``remove``/``first``
    are O(log n); ``position``, ``ordered`` and iteration are O(n) and meant
    for queries, not the routing path.
    """

    __slots__ = ("_heap", "_live", "_dead")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Waiting]] = []
        self._live = 0
        self._dead = 0

    def __len__(self) -> int:
        return self._live

    def push(self, item: Waiting) -> None:
        """Add ``item`` at the place its ``(key, seq)`` gives it."""
        entry = (item.key, item.seq, item)
        item.entry = entry
        heapq.heappush(self._heap, entry)
        self._live += 1

    def remove(self, item: Waiting) -> None:
        """Take ``item`` out of the line; it must be in it."""
        entry = item.entry
        item.entry = None
        self._live -= 1
        heap = self._heap
        if heap[0] is entry:
            heapq.heappop(heap)
            self._drop_dead_top()
        else:
            self._dead += 1
            if self._dead > 64 and self._dead > self._live:
                self._heap = [e for e in heap if e[2].entry is e]
                heapq.heapify(self._heap)
                self._dead = 0

    def first(self, skip: Callable[[Waiting], bool] | None = None) -> Waiting | None:
        """The best item for which ``skip(item)`` is false, without removing it.

        ``skip`` is called on items best first until it returns false. Skipped
        items are popped and pushed back, so the cost grows with the number
        skipped, which exclusions (declines) keep small. The heap's top is
        always a live entry: removals drop dead entries that surface.
        """
        heap = self._heap
        if not heap:
            return None
        top = heap[0][2]
        if skip is None or not skip(top):
            return top
        aside = [heapq.heappop(heap)]
        found: Waiting | None = None
        while heap:
            entry = heap[0]
            if entry[2].entry is not entry:
                heapq.heappop(heap)
                self._dead -= 1
                continue
            if not skip(entry[2]):
                found = entry[2]
                break
            aside.append(heapq.heappop(heap))
        for entry in aside:
            heapq.heappush(heap, entry)
        return found

    def position(self, item: Waiting) -> int:
        """1-based place of ``item``, which must be in the line. O(n)."""
        mine = (item.key, item.seq)
        return 1 + sum(1 for e in self._heap if e[2].entry is e and (e[0], e[1]) < mine)

    def ordered(self) -> list[Waiting]:
        """All items, best first. O(n log n)."""
        return [e[2] for e in sorted(e for e in self._heap if e[2].entry is e)]

    def __iter__(self) -> Iterator[Waiting]:
        """All items in no particular order. O(n)."""
        return (e[2] for e in self._heap if e[2].entry is e)

    def _drop_dead_top(self) -> None:
        heap = self._heap
        while heap and heap[0][2].entry is not heap[0]:
            heapq.heappop(heap)
            self._dead -= 1


def estimate_wait(position: int, *, staffed: int, available: int, mean_handle_time: float) -> float | None:
    """Seconds until the callback at ``position`` (1-based) is likely offered.

    The first ``available`` callbacks go at once. After that, ``staffed``
    agents free up one round every ``mean_handle_time`` on average; a busy
    agent is on average half-way through a contact, hence the ``- 0.5``.
    None when nobody is staffed: there is no honest number to give.
    """
    if staffed <= 0:
        return None
    if position <= available:
        return 0.0
    rounds = math.ceil((position - available) / staffed)
    return (rounds - 0.5) * mean_handle_time
